"""Staff screen for the audit chain: its head, and verification as a background job."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from . import audit, selectors, services
from .models import Job, Role
from .permissions import StaffRequiredMixin


class AuditChainView(StaffRequiredMixin, TemplateView):
    template_name = "core/audit_chain.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not selectors.has_role(request.user, Role.ADMIN):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

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
