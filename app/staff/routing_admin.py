"""Admin pages for routing: ordered rules, a preview, and departments' auto-assignment.

Admins only (others get 403). Each change goes through ``catalog.rules`` and
is committed once here; the preview calls ``catalog.routing.route`` and
writes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.models import Role
from app.catalog import rules
from app.catalog.models import AutoAssign, Category, Department, Macrosector
from app.catalog.routing import route
from app.catalog.routing_models import RoutingRule
from app.domain import ValidationFailed
from app.extensions import db
from app.forms import apply_domain_errors
from app.staff.routing_forms import ConfirmForm, DepartmentSettingsForm, PreviewForm, RuleForm
from app.tickets.assignment import AUTO_ASSIGN_LABELS
from app.tickets.models import Channel

bp = Blueprint("routing_admin", __name__, url_prefix="/gestion/admin/ruteo")


@bp.before_request
@login_required
def require_admin():
    """:raise 403: for staff who are not admins."""
    if current_user.role is not Role.ADMIN:
        abort(403)


def _label(name: str, active: bool) -> str:
    return name if active else _("%(name)s (inactivo)", name=name)


def _categories() -> list[tuple[int, str]]:
    return [(c.id, _label(c.name, c.active)) for c in db.session.scalars(
        sa.select(Category).order_by(Category.name, Category.id))]


def _departments() -> list[tuple[int, str]]:
    return [(d.id, _label(d.name, d.active)) for d in db.session.scalars(
        sa.select(Department).order_by(Department.name))]


def _macrosectors() -> list[tuple[int, str]]:
    return [(m.id, m.name) for m in db.session.scalars(
        sa.select(Macrosector).order_by(Macrosector.name))]


def _channels(any_label: str) -> list[tuple[str, str]]:
    return [("", any_label)] + [(c.value, c.label) for c in Channel]


def _fill_rule_choices(form: RuleForm) -> RuleForm:
    form.category.choices = [("", _("Cualquier categoría"))] + _categories()
    form.macrosector.choices = [("", _("Cualquier macrosector"))] + _macrosectors()
    form.channel.choices = _channels(_("Cualquier canal"))
    form.department.choices = [("", _("Elige un departamento"))] + _departments()
    return form


def _rule_input(form: RuleForm) -> rules.RuleInput:
    return rules.RuleInput(
        name=form.name.data, department_id=form.department.data, active=form.active.data,
        category_id=form.category.data, keywords=form.keywords.data,
        macrosector_id=form.macrosector.data, address_contains=form.address_contains.data,
        channel=form.channel.data or None)


def _rule_or_404(rule_id: int) -> RoutingRule:
    return db.get_or_404(RoutingRule, rule_id)


@bp.get("/")
def index():
    departments = db.session.scalars(sa.select(Department).order_by(Department.name)).all()
    return render_template("admin/routing_index.html", rules=rules.ordered_rules(db.session),
                           departments=departments, auto_assign_labels=AUTO_ASSIGN_LABELS)


def _save_rule(form: RuleForm, rule: RoutingRule | None):
    try:
        if rule is None:
            saved = rules.create_rule(db.session, _rule_input(form))
        else:
            saved = rules.update_rule(db.session, rule, _rule_input(form))
    except ValidationFailed as error:
        db.session.rollback()
        apply_domain_errors(form, error)
        return None
    db.session.commit()
    return saved


@bp.route("/reglas/nueva", methods=["GET", "POST"])
def new_rule():
    form = _fill_rule_choices(RuleForm())
    if form.validate_on_submit():
        saved = _save_rule(form, None)
        if saved is not None:
            flash(_("Regla «%(name)s» creada. Se evalúa al final de la lista.",
                    name=saved.name), "success")
            return redirect(url_for(".index"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/routing_rule.html", form=form, rule=None), status


@bp.route("/reglas/<int:rule_id>", methods=["GET", "POST"])
def edit_rule(rule_id: int):
    rule = _rule_or_404(rule_id)
    if request.method == "POST":
        form = _fill_rule_choices(RuleForm())
        if form.validate_on_submit():
            saved = _save_rule(form, rule)
            if saved is not None:
                flash(_("Regla «%(name)s» guardada.", name=saved.name), "success")
                return redirect(url_for(".index"))
            rule = _rule_or_404(rule_id)  # reloaded after the rollback
        return render_template("admin/routing_rule.html", form=form, rule=rule), 422
    form = _fill_rule_choices(RuleForm(formdata=None, data={
        "name": rule.name, "category": rule.category_id, "keywords": rule.keywords,
        "macrosector": rule.macrosector_id, "address_contains": rule.address_contains,
        "channel": rule.channel.value if rule.channel else "",
        "department": rule.department_id, "active": rule.active,
    }))
    return render_template("admin/routing_rule.html", form=form, rule=rule)


@bp.post("/reglas/<int:rule_id>/<any(subir, bajar):direction>")
def move_rule(rule_id: int, direction: str):
    rule = _rule_or_404(rule_id)
    if ConfirmForm().validate_on_submit():
        moved = rules.move_rule(db.session, rule, -1 if direction == "subir" else 1)
        db.session.commit()
        if moved:
            flash(_("Regla «%(name)s» movida.", name=rule.name), "success")
        else:
            flash(_("La regla «%(name)s» ya está en ese extremo de la lista.",
                    name=rule.name), "info")
    return redirect(url_for(".index", _anchor=f"regla-{rule.id}"))


@bp.route("/reglas/<int:rule_id>/eliminar", methods=["GET", "POST"])
def delete_rule(rule_id: int):
    rule = _rule_or_404(rule_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = rule.name
        rules.delete_rule(db.session, rule)
        db.session.commit()
        flash(_("Regla «%(name)s» eliminada.", name=name), "success")
        return redirect(url_for(".index"))
    return render_template("admin/routing_delete.html", rule=rule, form=form)


@bp.get("/probar")
def preview():
    form = PreviewForm(request.args)
    form.category.choices = [("", _("Elige una categoría"))] + _categories()
    form.macrosector.choices = [("", _("Sin macrosector"))] + _macrosectors()
    form.channel.choices = [(c.value, c.label) for c in Channel]
    decision, channel = None, None
    if request.args:
        category = db.session.get(Category, form.category.data) if form.category.data else None
        if category is None:
            form.category.errors = [_("Elige una categoría de la lista.")]
        try:
            channel = Channel(form.channel.data or Channel.WEB.value)
        except ValueError:
            form.channel.errors = [_("Elige un canal de la lista.")]
        if not form.category.errors and not form.channel.errors:
            macrosector = (db.session.get(Macrosector, form.macrosector.data)
                           if form.macrosector.data else None)
            decision = route(db.session, category=category,
                             description=form.description.data or "",
                             address=form.address.data or "", macrosector=macrosector,
                             channel=channel)
    status = 422 if form.category.errors or form.channel.errors else 200
    return render_template("admin/routing_preview.html", form=form, decision=decision,
                           auto_assign_labels=AUTO_ASSIGN_LABELS), status


@bp.route("/departamentos/<int:department_id>", methods=["GET", "POST"])
def department_settings(department_id: int):
    department = db.get_or_404(Department, department_id)
    form = DepartmentSettingsForm(
        formdata=None if request.method == "GET" else request.form,
        data={"auto_assign": department.auto_assign.value})
    form.auto_assign.choices = [(m.value, str(AUTO_ASSIGN_LABELS[m])) for m in AutoAssign]
    if form.validate_on_submit():
        try:
            rules.set_auto_assign(db.session, department, form.auto_assign.data)
        except ValidationFailed as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            flash(_("Asignación automática de %(name)s guardada.", name=department.name),
                  "success")
            return redirect(url_for(".index", _anchor="departamentos"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/routing_department.html", form=form,
                           department=department), status
