-- Which of the installed detection models an organization's cameras use (none: the operator's default,
-- DETECTION_MODEL_PATH). A name, not a path: the model is looked up in the models folder at each camera start.

CREATE TABLE organization_detection_models (
  org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  model text NOT NULL CHECK (model ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
