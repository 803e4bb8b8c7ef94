-- `GET /admin/audit` filters by target (client), by action and by time, newest first: each
-- filter reads its own index in id order instead of scanning the whole log.
CREATE INDEX audit_events_by_target ON audit_events(target, id);
CREATE INDEX audit_events_by_action ON audit_events(action, id);
CREATE INDEX audit_events_by_time ON audit_events(at);
