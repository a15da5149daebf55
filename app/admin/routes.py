"""The administration pages (/gestion/admin/): admins only, everyone else gets 403.

Views are thin: build the service input from the form, call one function of
``app.admin.services``, commit once, or roll back and show the re-filled form.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.accounts import totp
from app.accounts.credentials import ApiKey
from app.accounts.models import Role, User
from app.admin import email_preview, services
from app.admin.forms import (
    ROLE_LABELS,
    ApiKeyForm,
    AttributeForm,
    CategoryForm,
    DepartmentForm,
    MacrosectorForm,
    NewUserForm,
    SlaPolicyForm,
    UserForm,
)
from app.audit.service import client_ip, record
from app.catalog.attributes import CategoryAttribute
from app.catalog.models import Category, Department, Macrosector
from app.catalog.sla import SlaPolicy
from app.domain import ValidationFailed
from app.extensions import db
from app.forms import apply_domain_errors
from app.i18n import LOCALES, current_locale
from app.tickets.models import Ticket

bp = Blueprint("admin", __name__, url_prefix="/gestion/admin")

# Admin pages of other features, by endpoint: linked only when registered.
OTHER_SECTIONS = (
    ("routing_admin.index", _l("Reglas de ruteo (con vista previa)")),
    ("deadlines.holidays", _l("Feriados y días hábiles")),
    ("productivity.canned_index", _l("Respuestas tipo")),
    ("audit.index", _l("Auditoría")),
)


@bp.before_request
@login_required
def require_admin():
    """:raise 403: for staff who are not admins (after login, like the survey builder)."""
    if current_user.role is not Role.ADMIN:
        abort(403)


def _audit(action: str, target) -> None:
    """Record an admin change in the audit log, in the request's transaction."""
    record(db.session, actor=current_user, action=action, target_type=action.split(".")[1],
           target_id=getattr(target, "id", None), ip=client_ip())


def _save(form, audit: str, action, success: str, redirect_to):
    """Run ``action`` if the form is valid; audit, commit and redirect, or re-fill.

    Returns a redirect, or None when the caller should re-render with 422.
    """
    if not form.validate_on_submit():
        return None
    try:
        result = action()
    except ValidationFailed as error:
        db.session.rollback()
        apply_domain_errors(form, error)
        return None
    _audit(audit, result)
    db.session.commit()
    flash(success, "success")
    return redirect(redirect_to(result))


def _status() -> int:
    return 422 if request.method == "POST" else 200


@bp.get("/")
def home():
    links = [(url_for(endpoint), label) for endpoint, label in OTHER_SECTIONS
             if endpoint in current_app.view_functions]
    return render_template("admin/home.html", other_links=links)


# --- departments ---------------------------------------------------------------------------

def _department_input(form: DepartmentForm) -> services.DepartmentInput:
    return services.DepartmentInput(name=form.name.data, slug=form.slug.data,
                                    email=form.email.data, active=form.active.data)


@bp.get("/departamentos")
def departments():
    rows = db.session.execute(
        sa.select(Department, sa.func.count(Category.id))
        .outerjoin(Category, sa.and_(Category.department_id == Department.id, Category.active))
        .group_by(Department.id).order_by(Department.name)).all()
    return render_template("admin/departments.html", rows=rows)


@bp.route("/departamentos/nuevo", methods=["GET", "POST"])
def department_new():
    form = DepartmentForm()
    done = _save(form, "admin.department.create",
                 lambda: services.create_department(db.session, _department_input(form)),
                 _("Departamento creado."), lambda d: url_for(".departments"))
    return done or (render_template("admin/department_form.html", form=form,
                                    department=None), _status())


@bp.route("/departamentos/<int:department_id>", methods=["GET", "POST"])
def department_edit(department_id: int):
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(formdata=None, data={
        "name": department.name, "slug": department.slug, "email": department.email or "",
        "active": department.active}) if request.method == "GET" else DepartmentForm()
    done = _save(form, "admin.department.update",
                 lambda: services.update_department(db.session, department,
                                                          _department_input(form)),
                 _("Cambios guardados."), lambda d: url_for(".departments"))
    return done or (render_template("admin/department_form.html", form=form,
                                    department=department), _status())


# --- macrosectors --------------------------------------------------------------------------

@bp.get("/macrosectores")
def macrosectors():
    rows = db.session.execute(
        sa.select(Macrosector, sa.func.count(Ticket.id))
        .outerjoin(Ticket, Ticket.macrosector_id == Macrosector.id)
        .group_by(Macrosector.id).order_by(Macrosector.name)).all()
    return render_template("admin/macrosectors.html", rows=rows)


@bp.route("/macrosectores/nuevo", methods=["GET", "POST"])
def macrosector_new():
    form = MacrosectorForm()
    done = _save(form, "admin.macrosector.create",
                 lambda: services.save_macrosector(db.session, None, form.name.data),
                 _("Macrosector creado."), lambda m: url_for(".macrosectors"))
    return done or (render_template("admin/macrosector_form.html", form=form,
                                    macrosector=None), _status())


@bp.route("/macrosectores/<int:macrosector_id>", methods=["GET", "POST"])
def macrosector_edit(macrosector_id: int):
    macrosector = db.get_or_404(Macrosector, macrosector_id)
    form = (MacrosectorForm(formdata=None, data={"name": macrosector.name})
            if request.method == "GET" else MacrosectorForm())
    done = _save(form, "admin.macrosector.update",
                 lambda: services.save_macrosector(db.session, macrosector, form.name.data),
                 _("Cambios guardados."), lambda m: url_for(".macrosectors"))
    return done or (render_template("admin/macrosector_form.html", form=form,
                                    macrosector=macrosector), _status())


# --- categories ----------------------------------------------------------------------------

def _department_choices(form: CategoryForm) -> None:
    """The department and SLA policy selects of the category form, and the
    retention hint with the municipality's default."""
    form.retention_months.description = _(
        "Pasados estos meses desde que se cierra una solicitud, se borran sus datos "
        "personales: nombre, correo, teléfono, RUT, archivos y, en las categorías privadas, "
        "los textos. Las cifras se mantienen. Vacío: %(n)d meses, lo configurado para todo "
        "el municipio.", n=current_app.config["RETENTION_MONTHS_DEFAULT"])
    form.department.choices = [("", _("Elige un departamento"))] + [
        (d.id, d.name if d.active else _("%(name)s (inactivo)", name=d.name))
        for d in db.session.scalars(sa.select(Department).order_by(Department.name))]
    form.sla_policy.choices = [("", _("Plazos por defecto del municipio"))] + [
        (p.id, f"{p.name} ({p.kind.label})")
        for p in db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.name))]


def _category_input(form: CategoryForm) -> services.CategoryInput:
    return services.CategoryInput(
        name=form.name.data, slug=form.slug.data, description=form.description.data,
        department_id=form.department.data, visibility=form.visibility.data,
        active=form.active.data, allows_anonymous=form.allows_anonymous.data,
        keywords=form.keywords.data, sla_policy_id=form.sla_policy.data,
        retention_months=form.retention_months.data)


@bp.get("/categorias")
def categories():
    department_id = request.args.get("departamento", type=int)
    query = sa.select(Category).join(Category.department).order_by(Department.name,
                                                                   Category.name)
    if department_id:
        query = query.where(Category.department_id == department_id)
    all_departments = db.session.scalars(sa.select(Department).order_by(Department.name)).all()
    return render_template("admin/categories.html", categories=db.session.scalars(query).all(),
                           departments=all_departments, department_id=department_id)


@bp.route("/categorias/nueva", methods=["GET", "POST"])
def category_new():
    form = CategoryForm()
    _department_choices(form)
    done = _save(form, "admin.category.create",
                 lambda: services.create_category(db.session, _category_input(form)),
                 _("Categoría creada. Puedes agregarle preguntas."),
                 lambda c: url_for(".category_edit", category_id=c.id))
    return done or (render_template("admin/category_form.html", form=form, category=None,
                                    attribute_form=None), _status())


def _category_form_for(category: Category) -> CategoryForm:
    """The edit form filled from the saved category (not from ``obj=``, whose
    ``department`` attribute is an object the select cannot show)."""
    return CategoryForm(formdata=None, data={
        "name": category.name, "slug": category.slug, "description": category.description,
        "department": category.department_id, "visibility": category.visibility.value,
        "active": category.active, "allows_anonymous": category.allows_anonymous,
        "keywords": category.keywords, "sla_policy": category.sla_policy_id,
        "retention_months": ("" if category.retention_months is None
                             else str(category.retention_months))})


def _category_page(category: Category, form: CategoryForm, attribute_form: AttributeForm,
                   status: int):
    return render_template("admin/category_form.html", form=form, category=category,
                           attribute_form=attribute_form), status


@bp.route("/categorias/<int:category_id>", methods=["GET", "POST"])
def category_edit(category_id: int):
    category = db.get_or_404(Category, category_id)
    if request.method == "GET":
        form = _category_form_for(category)
    else:
        form = CategoryForm()
    _department_choices(form)
    done = _save(form, "admin.category.update",
                 lambda: services.update_category(db.session, category,
                                                        _category_input(form)),
                 _("Cambios guardados."),
                 lambda c: url_for(".category_edit", category_id=c.id))
    return done or _category_page(category, form, AttributeForm(formdata=None, prefix="attr"),
                                  _status())


# --- SLA policies --------------------------------------------------------------------------

def _sla_policy_input(form: SlaPolicyForm) -> services.SlaPolicyInput:
    return services.SlaPolicyInput(
        name=form.name.data, kind=form.kind.data,
        first_response_target=form.first_response_target.data,
        first_response_unit=form.first_response_unit.data,
        resolution_target=form.resolution_target.data,
        resolution_unit=form.resolution_unit.data, warn_percent=form.warn_percent.data,
        extension_days=form.extension_days.data)


@bp.get("/plazos")
def sla_policies():
    rows = db.session.execute(
        sa.select(SlaPolicy, sa.func.count(Category.id))
        .outerjoin(Category, Category.sla_policy_id == SlaPolicy.id)
        .group_by(SlaPolicy.id).order_by(SlaPolicy.name)).all()
    return render_template("admin/sla_policies.html", rows=rows)


@bp.route("/plazos/nueva", methods=["GET", "POST"])
def sla_policy_new():
    form = SlaPolicyForm()
    done = _save(form, "admin.slapolicy.create",
                 lambda: services.create_sla_policy(db.session, _sla_policy_input(form)),
                 _("Política de plazos creada. Asígnala a sus categorías."),
                 lambda p: url_for(".sla_policies"))
    return done or (render_template("admin/sla_policy_form.html", form=form, policy=None),
                    _status())


def _number_text(value: int | None) -> str:
    return "" if value is None else str(value)


@bp.route("/plazos/<int:policy_id>", methods=["GET", "POST"])
def sla_policy_edit(policy_id: int):
    policy = db.get_or_404(SlaPolicy, policy_id)
    form = SlaPolicyForm(formdata=None, data={
        "name": policy.name, "kind": policy.kind.value,
        "first_response_target": _number_text(policy.first_response_target),
        "first_response_unit": policy.first_response_unit.value,
        "resolution_target": _number_text(policy.resolution_target),
        "resolution_unit": policy.resolution_unit.value,
        "warn_percent": _number_text(policy.warn_percent),
        "extension_days": _number_text(policy.extension_days),
    }) if request.method == "GET" else SlaPolicyForm()
    done = _save(form, "admin.slapolicy.update",
                 lambda: services.update_sla_policy(db.session, policy,
                                                    _sla_policy_input(form)),
                 _("Cambios guardados. Rigen para las solicitudes nuevas."),
                 lambda p: url_for(".sla_policies"))
    categories = db.session.scalars(sa.select(Category).where(
        Category.sla_policy_id == policy.id).order_by(Category.name)).all()
    return done or (render_template("admin/sla_policy_form.html", form=form, policy=policy,
                                    categories=categories), _status())


# --- custom attributes ---------------------------------------------------------------------

def _attribute_input(form: AttributeForm) -> services.AttributeInput:
    return services.AttributeInput(
        code=form.code.data, description=form.description.data,
        datatype=form.datatype.data, required=form.required.data,
        variable=form.variable.data, datatype_description=form.datatype_description.data,
        values_text=form.values_text.data)


def _attribute_or_404(category: Category, attribute_id: int) -> CategoryAttribute:
    attribute = db.session.get(CategoryAttribute, attribute_id)
    if attribute is None or attribute.category_id != category.id:
        abort(404)
    return attribute


@bp.post("/categorias/<int:category_id>/preguntas")
def attribute_new(category_id: int):
    category = db.get_or_404(Category, category_id)
    attribute_form = AttributeForm(prefix="attr")
    done = _save(attribute_form, "admin.attribute.create",
                 lambda: services.create_attribute(db.session, category,
                                                   _attribute_input(attribute_form)),
                 _("Pregunta agregada."),
                 lambda a: url_for(".category_edit", category_id=category.id))
    if done:
        return done
    form = _category_form_for(category)
    _department_choices(form)
    return _category_page(category, form, attribute_form, 422)


@bp.route("/categorias/<int:category_id>/preguntas/<int:attribute_id>",
          methods=["GET", "POST"])
def attribute_edit(category_id: int, attribute_id: int):
    category = db.get_or_404(Category, category_id)
    attribute = _attribute_or_404(category, attribute_id)
    if request.method == "GET":
        form = AttributeForm(formdata=None, data={
            "code": attribute.code, "description": attribute.description,
            "datatype": attribute.datatype.value,
            "datatype_description": attribute.datatype_description or "",
            "values_text": services.format_values(attribute),
            "required": attribute.required, "variable": attribute.variable})
    else:
        form = AttributeForm()
    done = _save(form, "admin.attribute.update",
                 lambda: services.update_attribute(db.session, attribute,
                                                         _attribute_input(form)),
                 _("Pregunta guardada."),
                 lambda a: url_for(".category_edit", category_id=category.id))
    return done or (render_template("admin/attribute_form.html", form=form,
                                    category=category, attribute=attribute), _status())


@bp.post("/categorias/<int:category_id>/preguntas/<int:attribute_id>/eliminar")
def attribute_delete(category_id: int, attribute_id: int):
    category = db.get_or_404(Category, category_id)
    attribute = _attribute_or_404(category, attribute_id)
    _audit("admin.attribute.delete", attribute)
    services.delete_attribute(db.session, attribute)
    db.session.commit()
    flash(_("Pregunta eliminada."), "success")
    return redirect(url_for(".category_edit", category_id=category.id))


@bp.post("/categorias/<int:category_id>/preguntas/<int:attribute_id>/mover")
def attribute_move(category_id: int, attribute_id: int):
    category = db.get_or_404(Category, category_id)
    attribute = _attribute_or_404(category, attribute_id)
    direction = -1 if request.form.get("direccion") == "subir" else 1
    services.move_attribute(db.session, attribute, direction)
    _audit("admin.attribute.move", attribute)
    db.session.commit()
    flash(_("Orden cambiado."), "success")
    return redirect(url_for(".category_edit", category_id=category.id, _anchor="preguntas"))


# --- staff users ---------------------------------------------------------------------------

def _user_choices(form: UserForm) -> None:
    form.departments.choices = [
        (d.id, d.name) for d in db.session.scalars(sa.select(Department)
                                                   .order_by(Department.name))]


def _user_input(form: UserForm) -> services.UserInput:
    return services.UserInput(
        email=form.email.data, name=form.name.data, role=form.role.data,
        department_ids=list(form.departments.data or []), active=form.active.data,
        password=getattr(form, "password", None) and form.password.data or "",
        password_confirm=getattr(form, "password_confirm", None)
        and form.password_confirm.data or "")


@bp.get("/usuarios")
def users():
    return render_template("admin/users.html", role_labels=ROLE_LABELS,
                           users=db.session.scalars(sa.select(User).order_by(User.name)).all())


@bp.route("/usuarios/nuevo", methods=["GET", "POST"])
def user_new():
    form = NewUserForm()
    _user_choices(form)
    done = _save(form, "admin.user.create",
                 lambda: services.create_staff_user(db.session, _user_input(form)),
                 _("Usuario creado. Entrégale su contraseña inicial por un medio seguro."),
                 lambda u: url_for(".users"))
    return done or (render_template("admin/user_form.html", form=form, user=None), _status())


@bp.route("/usuarios/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    if request.method == "GET":
        form = UserForm(formdata=None, data={
            "name": user.name, "email": user.email, "role": user.role.value,
            "departments": sorted(user.department_ids), "active": user.active})
    else:
        form = UserForm()
    _user_choices(form)
    done = _save(form, "admin.user.update",
                 lambda: services.update_staff_user(db.session, user, _user_input(form),
                                                          by=current_user),
                 _("Cambios guardados."), lambda u: url_for(".users"))
    return done or (render_template("admin/user_form.html", form=form, user=user), _status())


@bp.post("/usuarios/<int:user_id>/totp/restablecer")
def user_totp_reset(user_id: int):
    """Turn a user's TOTP off (a lost phone); they can enable it again."""
    user = db.get_or_404(User, user_id)
    if totp.reset(db.session, user):
        record(db.session, actor=current_user, action="admin.user.totp_reset",
               target_type="user", target_id=user.id, ip=client_ip())
        db.session.commit()
        flash(_("Verificación en dos pasos desactivada para %(name)s.", name=user.name),
              "success")
    return redirect(url_for(".user_edit", user_id=user.id))


# --- API keys ------------------------------------------------------------------------------

@bp.get("/claves-api")
def api_keys():
    keys = db.session.scalars(sa.select(ApiKey).order_by(ApiKey.created_at.desc(),
                                                         ApiKey.id.desc())).all()
    return render_template("admin/api_keys.html", keys=keys)


@bp.route("/claves-api/nueva", methods=["GET", "POST"])
def api_key_new():
    form = ApiKeyForm()
    if form.validate_on_submit():
        try:
            issued = services.create_api_key(db.session, name=form.name.data,
                                             scope_names=list(form.scopes.data or []))
        except ValidationFailed as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            _audit("admin.apikey.create", issued.record)
            db.session.commit()
            # Rendered, never redirected: the secret exists only in this response.
            response = current_app.make_response(render_template(
                "admin/api_key_created.html", key=issued.record, secret=issued.secret))
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_template("admin/api_key_form.html", form=form), _status()


@bp.post("/claves-api/<int:key_id>/revocar")
def api_key_revoke(key_id: int):
    key = db.get_or_404(ApiKey, key_id)
    services.revoke_api_key(db.session, key)
    _audit("admin.apikey.revoke", key)
    db.session.commit()
    flash(_("Clave «%(name)s» revocada: deja de funcionar de inmediato.", name=key.name),
          "success")
    return redirect(url_for(".api_keys"))


# --- email templates -----------------------------------------------------------------------

@bp.get("/correos")
def emails():
    """Every email as sent to a recipient of the language ``?idioma=`` (default: the page's)."""
    language = request.args.get("idioma")
    language = language if language in LOCALES else current_locale()
    try:
        samples = email_preview.sample_emails(db.session, language)
    finally:
        db.session.rollback()  # the sample is never saved
    response = current_app.make_response(render_template(
        "admin/emails.html", samples=samples, language=language, languages=LOCALES))
    # Emails carry inline styles (mail clients need them); the previews, in
    # sandboxed srcdoc frames, inherit this page's policy. Scripts stay blocked.
    response.headers["Content-Security-Policy"] = "style-src 'self' 'unsafe-inline'"
    return response
