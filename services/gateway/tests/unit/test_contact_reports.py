"""The directory's rules for a team manager or allocated worker reported from a resolution form."""

from __future__ import annotations

from gateway.directory.contact_reports import decide

CASE = {"case_type": "CIN", "status": "open", "team_id": "T-1", "allocated_worker_id": None, "team_manager_id": None}
PEOPLE = {
    "TM-1": {"roles": ["team_manager"], "active": True},
    "SW-1": {"roles": ["social_worker"], "active": True},
    "SW-OLD": {"roles": ["social_worker"], "active": False},
}


def test_a_contact_the_directory_lacks_is_taken_from_the_form() -> None:
    """Seed 001: "If there is no recorded Team Manager or Allocated Case Worker they will need to be
    recorded here. This will then feed back into the child's demographics." """
    outcome = decide(CASE, PEOPLE, {"team_manager_id": "TM-1", "allocated_worker_id": "SW-1"})
    assert outcome.applied == {"team_manager_id": "TM-1", "allocated_worker_id": "SW-1"} and outcome.refused == {}


def test_the_import_stays_the_authority_a_report_never_replaces_someone_the_directory_names() -> None:
    """Seed 001: "If there is no recorded Team Manager ... they will need to be recorded here": only
    when there is none; an import that named someone since is not overwritten."""
    outcome = decide({**CASE, "team_manager_id": "TM-2"}, PEOPLE, {"team_manager_id": "TM-1", "allocated_worker_id": None})
    assert outcome.applied == {} and outcome.refused == {"team_manager_id": "directory-names-another"}
    same = decide({**CASE, "team_manager_id": "TM-1"}, PEOPLE, {"team_manager_id": "TM-1"})
    assert same.applied == {} and same.refused == {"team_manager_id": "already-recorded"}


def test_only_a_known_active_person_with_a_fitting_role_and_a_known_case() -> None:
    """Seed 001: "This will then feed back into the child's demographics" — with the directory's rules."""
    outcome = decide(CASE, PEOPLE, {"team_manager_id": "SW-1", "allocated_worker_id": "SW-OLD"})
    assert outcome.applied == {} and outcome.refused == {
        "team_manager_id": "role-does-not-fit",
        "allocated_worker_id": "person-inactive",
    }
    assert decide(CASE, PEOPLE, {"allocated_worker_id": "NOBODY"}).refused == {"allocated_worker_id": "unknown-person"}
    assert decide(None, PEOPLE, {"allocated_worker_id": "SW-1"}).refused == {"allocated_worker_id": "unknown-case"}
