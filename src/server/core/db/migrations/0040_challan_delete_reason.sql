-- Why a challan was deleted, as the admin who deleted it said (shown on the deleted challans page; cleared on restore).

ALTER TABLE delivery_challans ADD COLUMN delete_reason text;
