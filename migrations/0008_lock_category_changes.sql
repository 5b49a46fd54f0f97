-- The first step of a submission in one round trip: take the category's advisory lock, then read
-- the rows of the category changed since `seen` (the engine's cursor). Inside a function every
-- statement takes a fresh snapshot (READ COMMITTED), so the read sees everything committed while
-- the lock was awaited; a single SELECT calling pg_advisory_xact_lock would read with a snapshot
-- taken before the lock was granted and could miss the report it must deduplicate against.
CREATE FUNCTION lock_category_changes(lock_space integer, cat text, seen bigint)
RETURNS SETOF reports
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_space, hashtext(cat));
    RETURN QUERY SELECT * FROM reports r WHERE r.category = cat AND r.rev > seen;
END
$$;
