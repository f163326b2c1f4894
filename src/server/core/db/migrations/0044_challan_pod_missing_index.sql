-- The register's "POD missing" view (challans still waiting for proof of delivery, of one customer or all,
-- newest first) reads only this small share of the table: its first page and its count no longer visit
-- every challan of the customer to find the few without a POD file.
CREATE INDEX delivery_challans_pod_missing ON delivery_challans (org_id, customer_id, challan_date DESC, number DESC)
  WHERE deleted_at IS NULL AND pod_file_id IS NULL;
