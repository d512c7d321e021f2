-- The event feed runs in the order of the writing transactions, then seq (see FeedCursor in
-- src/store/model.rs): sequence values are taken before commit, so seq order alone let a
-- reader pass an event whose earlier transaction committed later.
CREATE INDEX events_authority_feed ON events (authority_id, xid, seq);
