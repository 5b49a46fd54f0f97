-- The part a status plays in the workflow, as data: the service never names a status code in
-- its SQL. A city whose statuses have other codes marks them here.
--   initial   a new report, and a rerouted one
--   not_ours  "not ours": the report is rerouted to the unit named (which sees it as initial)
--   reopened  where a reopened or unmerged report goes
--   duplicate a report merged into another, or a duplicate found at submission
--   resolved  stamps resolved_at
ALTER TABLE statuses ADD COLUMN role text UNIQUE
    CHECK (role IN ('initial', 'not_ours', 'reopened', 'duplicate', 'resolved'));
UPDATE statuses SET role = 'initial' WHERE code = 'new';
UPDATE statuses SET role = 'not_ours' WHERE code = 'rejected';
UPDATE statuses SET role = 'reopened' WHERE code = 'acknowledged';
UPDATE statuses SET role = 'duplicate' WHERE code = 'duplicate';
UPDATE statuses SET role = 'resolved' WHERE code = 'resolved';
