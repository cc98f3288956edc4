-- Issue #18 items 20 and 21 (SQLite's 0025 for PostgreSQL): the handbook's remaining fields.
-- other_contacts: the individual's other contacts (free text, guarded; erased with the brief).
-- guided_to: the unit a lotsning guided the individual to (free text, guarded; erased with the brief).
-- evaluation_score: the evaluation of the individual's delaktighet, 1 (inte alls) to 5 (helt); NULL: not asked.
-- evaluation_comment: the evaluation's comment (free text, guarded; erased with the brief).
-- sip_mandate: a SIP drawn up at the GFI: 1 when the participants had mandate to decide; NULL: not asked.
-- individual_informed: 1 when the individual was told what the meeting is and who comes, 0 when not; NULL: not asked.
-- meeting_kind: NULL or 'gfi' for a meeting with the individual, 'tjansteperson' for a tjänstepersonmöte;
-- meeting_purpose: why a tjänstepersonmöte (a code, see bot/cases/models.py MeetingPurpose).
ALTER TABLE cases ADD COLUMN other_contacts TEXT;
ALTER TABLE cases ADD COLUMN guided_to TEXT;
ALTER TABLE cases ADD COLUMN evaluation_score BIGINT;
ALTER TABLE cases ADD COLUMN evaluation_comment TEXT;
ALTER TABLE cases ADD COLUMN sip_mandate BIGINT;
ALTER TABLE cases ADD COLUMN individual_informed BIGINT;
ALTER TABLE cases ADD COLUMN meeting_kind TEXT;
ALTER TABLE cases ADD COLUMN meeting_purpose TEXT;
