"""Always current: two people acting on the same section at once. One wins; the other gets 412
with the current version, their change is not stored, and nothing of the winner's is lost."""

from __future__ import annotations

import asyncio

import pytest
from resolution import store
from shared.problems import stale_problem
from shared.versioned import Stale

from devstack.testing import CommandLog, EventCapture

#: Listening from before the service's client is made: PyMongo tells a listener only of clients made after it.
LOG = CommandLog.get()


async def _delegated(resolution) -> tuple[str, int]:
    form = await resolution.raise_form()
    done = await resolution.act("POST", f"/v1/forms/{form['id']}/stages/informal/section/delegation", "IRO-1", 1, {"delegate_id": "SW-1"})
    return form["id"], done["version"]


@pytest.mark.parametrize("attempt", range(3))
async def test_two_saves_of_the_same_section_at_once_one_wins_the_other_gets_412(resolution, attempt: int) -> None:
    form_id, version = await _delegated(resolution)
    path = f"/v1/forms/{form_id}/stages/informal/section"
    # The delegate on a laptop and on a phone, both from the version they read.
    laptop, phone = await asyncio.gather(
        resolution.http.put(path, json={"response": "Laptop text"}, headers=resolution.edit("SW-1", version)),
        resolution.http.put(path, json={"response": "Phone text"}, headers=resolution.edit("SW-1", version)),
    )
    assert sorted([laptop.status_code, phone.status_code]) == [200, 412], (laptop.text, phone.text)
    winner, loser = (laptop, phone) if laptop.status_code == 200 else (phone, laptop)
    problem = loser.json()
    assert loser.headers["content-type"] == "application/problem+json"
    assert problem["current_version"] == version + 1 and problem["status"] == 412

    form = await resolution.form(form_id)
    assert form["version"] == version + 1
    assert form["stages"][0]["section"]["response"] == winner.json()["stages"][0]["section"]["response"]
    history = (await resolution.http.get(f"{path}/history", headers=resolution.as_("IRO-1"))).json()["items"]
    saves = [h["details"]["response"] for h in history if h["action"] == "section-draft-saved"]
    assert saves == [form["stages"][0]["section"]["response"]]


async def test_the_delegate_saving_while_the_owner_retracts_loses_nothing(resolution, capture: EventCapture) -> None:
    form_id, version = await _delegated(resolution)
    base = f"/v1/forms/{form_id}/stages/informal/section"
    first = await resolution.act("PUT", base, "SW-1", version, {"response": "Draft one"})
    version = first["version"]

    save, retract = await asyncio.gather(
        resolution.http.put(base, json={"response": "Draft two"}, headers=resolution.edit("SW-1", version)),
        resolution.http.post(f"{base}/retract", json={"reason": "Late", "note": "Taking it back"}, headers=resolution.edit("IRO-1", version)),
    )
    assert sorted([save.status_code, retract.status_code]) == [200, 412]
    form = await resolution.form(form_id)
    section = form["stages"][0]["section"]
    if save.status_code == 200:
        # The owner re-reads, sees the delegate's newer draft, and retracts: the draft stays.
        assert section["response"] == "Draft two" and section["state"] == "delegated"
        form = await resolution.act("POST", f"{base}/retract", "IRO-1", form["version"], {"reason": "Late", "note": "Taking it back"})
        assert form["stages"][0]["section"]["response"] == "Draft two"
    else:
        assert section["response"] == "Draft one" and section["state"] == "with-owner"
    await capture.wait_for("resolution.section.retracted.v1")
    await capture.flushed(resolution.db)  # every event written has arrived
    assert len(capture.of_type("resolution.section.retracted.v1")) == 1


async def test_the_store_refuses_a_save_from_a_version_that_is_no_longer_current(resolution) -> None:
    form_id, version = await _delegated(resolution)
    now = resolution.svc.runtime.clock.now()
    first = await store.load_form(resolution.db, form_id)
    second = await store.load_form(resolution.db, form_id)
    first.save_section(first.current_stage, "kept", by="SW-1", at=now)
    second.save_section(second.current_stage, "refused", by="SW-1", at=now)

    uow = resolution.svc.runtime.uow
    await uow.run(lambda tx: store.save_form(resolution.db, first, expected_version=version, tx=tx))
    with pytest.raises(Stale) as refused:
        await uow.run(lambda tx: store.save_form(resolution.db, second, expected_version=version, tx=tx))
    assert (refused.value.current, refused.value.expected) == (version + 1, version)
    problem = stale_problem(refused.value)
    assert problem.status == 412 and problem.extensions["current_version"] == version + 1
    assert (await store.load_form(resolution.db, form_id)).current.section.response == "kept"
    assert await resolution.db[store.FORM_HISTORY].count_documents({"form_id": form_id, "action": "section-draft-saved"}) == 1


async def test_a_save_writes_the_form_and_its_history_in_one_command(resolution) -> None:
    """The guarded replace and the history entry (a draft publishes no event) go to the database
    together, after the form's one read (``Transaction.replace_at_end``)."""
    form_id, version = await _delegated(resolution)
    with LOG.recording() as commands:
        saved = await resolution.http.put(f"/v1/forms/{form_id}/stages/informal/section", json={"response": "Draft"},
                                          headers=resolution.edit("SW-1", version))
    assert saved.status_code == 200, saved.text
    assert LOG.writes(commands) == [("bulkWrite", (store.FORMS, store.FORM_HISTORY))]
    assert LOG.to(commands, store.FORMS) == ["find", "bulkWrite"]
    assert (await store.load_form(resolution.db, form_id)).current.section.response == "Draft"
