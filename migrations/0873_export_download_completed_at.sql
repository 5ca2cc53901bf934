-- Decision 0873 (attack S18-9): a download the server wrote to its end is not proof the person
-- received it whole (the last bytes may still be in the network when the connection breaks). The
-- link is no longer spent at once by such a download: it records when it was first written to its
-- end, and it keeps working for an hour after that, within its 7 days and its 3 starts.
ALTER TABLE export_downloads ADD COLUMN completed_at timestamptz NULL;
