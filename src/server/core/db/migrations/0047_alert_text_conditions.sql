-- Alert rules on text and on/off telemetry (docs/alerts.md, "Text and on/off values"): a metric rule may test a
-- text value (`equals` / `not_equals` the rule's `text_value`, or `changes`) or an on/off value (`is_true` /
-- `is_false`, read from the 0/1 series). Alerts and the evaluator's state keep text values beside the numbers.
ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_operator_check;
ALTER TABLE alert_rules ADD CONSTRAINT alert_rules_operator_check
  CHECK (operator IN ('gt', 'gte', 'lt', 'lte', 'eq', 'ne', 'outside', 'is_true', 'is_false', 'equals', 'not_equals', 'changes'));
-- The text an `equals` / `not_equals` rule compares with (case-sensitive); bounded like the API.
ALTER TABLE alert_rules ADD COLUMN text_value text CHECK (char_length(text_value) <= 256);

-- A text rule's pending breach and last value (the numbers' columns stay NULL for it).
ALTER TABLE alert_rule_states ADD COLUMN breach_text text, ADD COLUMN last_text text;

-- A text alert's value when it opened and its latest; for `changes`, the value before the change.
ALTER TABLE alerts ADD COLUMN first_text text, ADD COLUMN latest_text text, ADD COLUMN previous_text text;
