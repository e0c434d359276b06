"""Administrator tools: the audit chain (head, verification as a job) and the
polling-scheme upload (an import as a job). Both show live progress bars."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from . import audit, selectors, services
from .importers.services import polling_scheme_upload_start
from .models import Job, Role
from .permissions import StaffRequiredMixin


class AdministratorRequiredMixin(StaffRequiredMixin):
    """A staff session of a user holding the administrator role; anyone else signed in gets 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not selectors.has_role(request.user, Role.ADMIN):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class AuditChainView(AdministratorRequiredMixin, TemplateView):
    template_name = "core/audit_chain.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        seq, head_hash = audit.head()
        ctx.update(
            head_seq=seq,
            head_hash=head_hash,
            jobs=Job.objects.filter(kind="audit.verify").select_related("created_by")[:5],
        )
        return ctx

    def post(self, request, *args, **kwargs):
        services.audit_verification_start(actor=request.user)
        messages.info(request, _("Verification started; the bar below shows its progress."))
        return redirect("core:audit_chain")


class SchemeUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Polling scheme (CSV)"),
        help_text=gettext_lazy("UTF-8 CSV with a header row, in the documented format."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError(_("Choose a .csv file."), code="extension")
        limit = settings.MAX_IMPORT_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit here is %(limit)s. Import larger files with the command.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
                code="size",
            )
        head = upload.read(4096)
        upload.seek(0)
        if b"\x00" in head:
            raise forms.ValidationError(_("This is not a text CSV file (it contains binary data)."), code="binary")
        return upload


class SchemeImportView(AdministratorRequiredMixin, FormView):
    template_name = "core/scheme_import.html"
    form_class = SchemeUploadForm

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["jobs"] = Job.objects.filter(kind="geography.scheme_import").select_related("created_by")[:10]
        return ctx

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        polling_scheme_upload_start(actor=self.request.user, uploaded=upload, file_name=upload.name)
        messages.info(self.request, _("Import started; the bar below shows its progress."))
        return redirect("core:scheme_import")
