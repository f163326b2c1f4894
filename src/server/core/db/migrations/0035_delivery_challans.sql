-- Delivery challans: the register of goods delivered to customers, the organization's customer list,
-- proof-of-delivery (POD) files with every replaced version kept, and the per-month number counters.

-- Search across a challan's text uses trigram indexes. pg_trgm ships with PostgreSQL and is a trusted
-- extension (13+): the database owner may create it without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE challan_customers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- The short name office staff use ("ACME-BLR"), unique in the organization whatever its case.
  tag text NOT NULL CHECK (length(tag) BETWEEN 1 AND 50),
  address text CHECK (length(address) <= 2000),
  contact text CHECK (length(contact) <= 500),
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX challan_customers_tag ON challan_customers (org_id, lower(tag));
CREATE INDEX challan_customers_name ON challan_customers (org_id, name, id);

-- One row per organization and month (YYMM of the challan date): the last sequence handed out. It is
-- incremented by INSERT … ON CONFLICT DO UPDATE … RETURNING in the transaction that inserts the challan,
-- so the row stays locked until that commits: concurrent creates wait for each other, a rolled-back create
-- gives its number back, and no number is skipped or given twice (a SEQUENCE would leave gaps).
CREATE TABLE challan_number_counters (
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  month text NOT NULL CHECK (month ~ '^[0-9]{4}$'),
  last_sequence integer NOT NULL CHECK (last_sequence >= 1),
  PRIMARY KEY (org_id, month)
);

-- Every text a search looks at, in one lowercased string (IMMUTABLE: array_to_string and concat_ws are only
-- STABLE in general, but on text values they cannot change, and a generated column needs IMMUTABLE).
CREATE FUNCTION challan_search_text(number text, customer text, description text, executives text[], invoice text)
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT lower(concat_ws(' ', number, customer, description, array_to_string(executives, ' '), invoice)) $$;

CREATE TABLE delivery_challans (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  -- Optional: a challan of a site is seen by members limited to that site; one without a site only by the others.
  site_id uuid REFERENCES sites(id) ON DELETE SET NULL,
  -- YYMM of the challan date + a 5-digit sequence of that month; fixed-width, so text order is number order.
  number text NOT NULL CHECK (number ~ '^[0-9]{9}$'),
  challan_date date NOT NULL,
  customer_id uuid NOT NULL REFERENCES challan_customers(id),
  -- The customer's name when the challan was made: renaming a customer does not rewrite old paperwork.
  customer_name text NOT NULL CHECK (length(customer_name) BETWEEN 1 AND 200),
  description text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
  delivery_executives text[] NOT NULL DEFAULT '{}',
  invoice_number text CHECK (length(invoice_number) BETWEEN 1 AND 50),
  invoice_date date,
  invoice_submitted boolean NOT NULL DEFAULT false,
  invoice_submitted_at timestamptz(3),
  pod_file_id uuid,
  -- Set by the server when a POD file is attached or replaced, and by nothing else. Milliseconds: keyset cursors.
  pod_uploaded_at timestamptz(3),
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  updated_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  -- Deletes are soft: the row (and so its number) stays; admins may restore it for 30 days.
  deleted_at timestamptz(3),
  deleted_by uuid REFERENCES users(id) ON DELETE SET NULL,
  search_text text NOT NULL GENERATED ALWAYS AS (challan_search_text(number, customer_name, description, delivery_executives, invoice_number)) STORED,
  UNIQUE (org_id, number),
  CHECK (invoice_date IS NULL OR invoice_date >= challan_date),
  CHECK (invoice_submitted = (invoice_submitted_at IS NOT NULL))
);
-- The register's default order (date, then number: within a day a later number was created later), and the
-- other sorts' first keys; all within live rows, as lists never show deleted ones.
CREATE INDEX delivery_challans_by_date ON delivery_challans (org_id, challan_date DESC, number DESC) WHERE deleted_at IS NULL;
CREATE INDEX delivery_challans_by_customer ON delivery_challans (org_id, customer_name, number) WHERE deleted_at IS NULL;
CREATE INDEX delivery_challans_by_invoice_date ON delivery_challans (org_id, invoice_date, number) WHERE deleted_at IS NULL;
CREATE INDEX delivery_challans_by_pod ON delivery_challans (org_id, pod_uploaded_at, number) WHERE deleted_at IS NULL;
CREATE INDEX delivery_challans_by_created ON delivery_challans (org_id, created_at, number) WHERE deleted_at IS NULL;
CREATE INDEX delivery_challans_customer ON delivery_challans (customer_id);
CREATE INDEX delivery_challans_deleted ON delivery_challans (org_id, deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX delivery_challans_search ON delivery_challans USING gin (search_text gin_trgm_ops);

-- Every POD file a challan had; the challan points at its current one. Replacing adds a version.
CREATE TABLE challan_pod_files (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  challan_id uuid NOT NULL REFERENCES delivery_challans(id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version >= 1),
  file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
  content_type text NOT NULL CHECK (content_type IN (
    'application/pdf', 'image/jpeg', 'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')),
  size_bytes integer NOT NULL CHECK (size_bytes > 0),
  storage_key text NOT NULL UNIQUE,
  -- A small JPEG to show in the register: an image's thumbnail (null for documents without one).
  preview_key text UNIQUE,
  uploaded_by uuid REFERENCES users(id) ON DELETE SET NULL,
  uploaded_at timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (challan_id, version)
);

ALTER TABLE delivery_challans ADD CONSTRAINT delivery_challans_pod_file
  FOREIGN KEY (pod_file_id) REFERENCES challan_pod_files(id) ON DELETE SET NULL;
