"""The asset register: machines recorded from the donation on (before any enrolment), their life cycle,
donor, intake date and data-erasure certificate. Staff add and update records; a commune sees its own."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from provisioning.fleet.accounts.access import ALL_ROLES, FLEET_ROLES, commune_scope, db, engine, requires
from provisioning.fleet.accounts.forms import AssetForm
from provisioning.fleet.dashboard import fleet_queries
from provisioning.fleet.dashboard.figures import FigureTable
from provisioning.fleet.store.readmodel import dialect_insert
from provisioning.fleet.store.staff_schema import LIFECYCLE_STATES, machine_assets
from provisioning.fleet.dashboard.usage_queries import LIFECYCLE_LABELS
from provisioning.fleet.store.engine import write_transaction

blueprint = Blueprint("assets", __name__, url_prefix="/tableau")


def register_params() -> tuple[str | None, int]:
    lifecycle = request.args.get("cycle") or None
    page = request.args.get("page", "1")
    return (lifecycle if lifecycle in LIFECYCLE_STATES else None,
            int(page) if page.isdigit() and 0 < int(page) < 100000 else 1)


def register_table(page_size: int = fleet_queries.ASSET_PAGE_SIZE) -> tuple[FigureTable, int, int]:
    lifecycle, page = register_params()
    rows, total = fleet_queries.asset_register_rows(db(), commune_scope(), lifecycle, page, page_size)
    table = FigureTable("materiel", "Le matériel, du don au recyclage",
                        ["Étiquette", "Étape", "Donateur", "Date d'entrée", "Certificat d'effacement", "Commune"],
                        [[r.asset_tag, LIFECYCLE_LABELS[r.lifecycle_state], r.donor, r.intake_date,
                          r.erasure_certificate, f"{r.commune_name} ({r.commune_insee})" if r.commune_insee else None]
                         for r in rows])
    return table, total, page


def save_asset(engine_, asset_tag: str, values: dict) -> None:
    with write_transaction(engine_) as conn:
        statement = dialect_insert(conn, machine_assets).values(asset_tag=asset_tag, crashes_7d=0, **values)
        conn.execute(statement.on_conflict_do_update(index_elements=["asset_tag"], set_=values))


@blueprint.route("/materiel", methods=["GET", "POST"])
@requires(*ALL_ROLES)
def register():
    form = AssetForm() if current_user.role in FLEET_ROLES else None
    status = 200
    if request.method == "POST":
        if form is None:
            return render_template("dashboard/error.html", code=403,
                                   message="Votre compte n'a pas accès à cette action."), 403
        if form.validate_on_submit():
            save_asset(engine(), form.asset_tag.data, {
                "lifecycle_state": form.lifecycle_state.data, "donor": form.donor.data or None,
                "intake_date": form.intake_date.data.isoformat() if form.intake_date.data else None,
                "erasure_certificate": form.erasure_certificate.data or None})
            flash(f"Machine {form.asset_tag.data} enregistrée.")
            return redirect(url_for("assets.register"))
        status = 400
    table, total, page = register_table()
    pages = max(1, -(-total // fleet_queries.ASSET_PAGE_SIZE))
    return render_template("dashboard/assets.html", table=table, total=total, page=page, pages=pages, form=form,
                           lifecycle=register_params()[0], lifecycle_labels=LIFECYCLE_LABELS), status
