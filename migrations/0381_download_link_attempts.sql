-- Access and portability download links (issue 19 attack: the link was spent when the download
-- started, so a broken connection left the person without their data). A link is now spent by
-- one download written to the end, or after 3 started downloads, within its 7 days; `attempts`
-- counts the starts. docs/decisions/0382.
ALTER TABLE export_downloads
  ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 3);
