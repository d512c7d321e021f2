-- Retention and rotatable webhook secrets (issue #7).

-- When the letter's content (its body and its documents' content) was deleted under the
-- retention rule; the letter row, its deliveries and its timeline stay.
ALTER TABLE letters ADD COLUMN content_deleted_at BIGINT;
-- The retention sweep looks only at letters that still have content, oldest first.
CREATE INDEX letters_retention ON letters (created_at) WHERE content_deleted_at IS NULL;

-- A rotated webhook secret keeps signing (beside the new one) until it expires, so the
-- authority can switch its receiver without missing a message.
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at BIGINT;
