-- A search for a common word counts its matches by walking the register newest first and checking each
-- challan's text until 1,001 match. With the text in the date index, that walk reads the index alone instead
-- of one table row per challan checked: on 1,000,000 challans, the count for a word in 2.5% of them takes
-- about 13 ms instead of 23 ms. The index grows from about 47 MB to 169 MB per 1,000,000 challans.
CREATE INDEX delivery_challans_by_date_with_text ON delivery_challans (org_id, challan_date DESC, number DESC)
  INCLUDE (search_text) WHERE deleted_at IS NULL;
DROP INDEX delivery_challans_by_date;
ALTER INDEX delivery_challans_by_date_with_text RENAME TO delivery_challans_by_date;
