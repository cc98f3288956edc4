"""Frånvaro in Slack: the Home tab's button, the modal, its remove buttons (issue #10, item 12)."""

from __future__ import annotations

from tests.fakes.slack_bot import FATIMA, LINNEA, SlackBot
from tests.fakes.slack_signing import block_actions_payload, datepicker_state, interaction_body, static_select_state
from tests.timekit import form


async def test_home_button_opens_the_modal_and_the_absence_is_registered_and_removed(bot: SlackBot) -> None:
    await bot.open_home(FATIMA)
    home = (await bot.fake.wait_for("views.publish", lambda c: c.params.get("user_id") == FATIMA))[-1]
    assert "gfi_absence_open" in str(home.params["view"])
    await bot.click(FATIMA, "gfi_absence_open", "absence", home=True, trigger_id="trig-abs")
    modal = await bot.opened_view("gfi_absence")
    people = next(b for b in modal["blocks"] if b.get("block_id") == "franvaro_person")
    assert "linnea.fors" in [o["value"] for o in people["element"]["options"]]
    stand_ins = next(b for b in modal["blocks"] if b.get("block_id") == "ersattare")
    assert "gustav.lund" in [o["value"] for o in stand_ins["element"]["options"]]
    # a stand-in of another unit is refused on the field
    values = {"franvaro_person": static_select_state("linnea.fors"), "franvaro_fran": datepicker_state("2026-11-23"),
              "franvaro_till": datepicker_state("2026-11-27"), "ersattare": static_select_state("maria.sand")}
    refused = await bot.submit(FATIMA, "gfi_absence", values)
    assert "Maria Sand arbetar inte på" in refused.json()["errors"]["ersattare"]
    values["ersattare"] = static_select_state("sofia.grahn")
    done = await bot.submit(FATIMA, "gfi_absence", values)
    assert "Linnea Fors är borta mån 23 nov 2026–fre 27 nov 2026" in str(done.json()["view"])
    assert bot.core.absences.stand_in("linnea.fors") == "sofia.grahn"
    await bot.settle()
    await bot.dm(LINNEA, "Fatima Ali har registrerat frånvaro för dig")
    # the assign form marks the absent person, so the distributor sees it before choosing
    case = await bot.core.cases.request("maria.sand", form())
    await bot.click(FATIMA, "gfi_assign_open", case.ref, trigger_id="trig-assign")
    assign = await bot.opened_view("gfi_assign")
    labels = {o["value"]: o["text"]["text"] for b in assign["blocks"] if b.get("block_id") == "personer"
              for o in b["element"]["options"]}
    assert labels["linnea.fors"] == "Linnea Fors (frånvarande till fre 27 nov 2026)"
    assert labels["sofia.grahn"] == "Sofia Grahn"
    # the remove button in the modal
    click = block_actions_payload(FATIMA, "gfi_absence_cancel", "1", view={"type": "modal", "id": "V-ABSENCE"})
    await bot.post(interaction_body(click))
    await bot.settle()
    [updated] = await bot.fake.wait_for("views.update", lambda c: c.params.get("view_id") == "V-ABSENCE")
    assert "Frånvaro 1 är borttagen" in str(updated.params["view"])
    assert bot.core.absences.stand_in("linnea.fors") is None
