"""Forms of the team pages: settings, invitations, the gallery's filters and share links."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.db import transaction

from enhancer.gallery_query import Filters
from enhancer.models import AuditEvent, Job, Membership, ShareLink, Team
from enhancer.models.jobs import Settings

KEY_HELP = "Leave empty to keep the saved one."


class SecretInput(forms.PasswordInput):
    """Never renders a value: a saved secret, or one typed into a form with errors, stays
    out of every page."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(
            attrs={"autocomplete": "off", "spellcheck": "false", **(attrs or {})},
            render_value=False,
        )


class TeamSettingsForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=80)
    provider = forms.ChoiceField(
        label="Engine", choices=Team.Provider.choices, widget=forms.RadioSelect
    )
    api_key = forms.CharField(
        label="API key for the Tengr.ai cloud",
        required=False,
        max_length=500,
        widget=SecretInput(),
        help_text=f"A key with the generator scope, from your Tengr.ai account. {KEY_HELP}",
    )
    webhook_secret = forms.CharField(
        label="Webhook signing secret (optional)",
        required=False,
        max_length=500,
        widget=SecretInput(),
        help_text=(
            "Your organization's webhook secret at Tengr.ai. With it, Detailer checks that "
            f"messages about finished jobs really come from the cloud. {KEY_HELP}"
        ),
    )
    monthly_job_limit = forms.IntegerField(
        label="Jobs per month for the whole team",
        required=False,
        min_value=1,
        help_text="Leave empty for no limit.",
    )
    member_monthly_job_limit = forms.IntegerField(
        label="Jobs per month for each member",
        required=False,
        min_value=1,
        help_text="Leave empty for no limit.",
    )

    content_credentials = forms.BooleanField(
        label="Sign results with Content Credentials",
        required=False,
        help_text=(
            "Each result carries a signed record (C2PA) saying it was enhanced by Detailer, "
            "with which engine and from which original. Apps such as "
            "contentcredentials.org/verify show it. Switch off only if your clients object."
        ),
    )

    def __init__(self, *args, team: Team, **kwargs) -> None:
        self.team = team
        kwargs.setdefault(
            "initial",
            {
                "name": team.name,
                "provider": team.provider,
                "content_credentials": team.content_credentials,
                "monthly_job_limit": team.monthly_job_limit,
                "member_monthly_job_limit": team.member_monthly_job_limit,
            },
        )
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the team a name.")
        return name

    def clean_api_key(self) -> str:
        key = self.cleaned_data["api_key"].strip()
        # What an Authorization header can carry: printable ASCII without spaces.
        if key and not re.fullmatch(r"[\x21-\x7e]+", key):
            raise forms.ValidationError(
                "This does not look like an API key: it has spaces or unusual characters."
            )
        return key

    def clean(self) -> dict:
        cleaned = super().clean()
        if (
            cleaned.get("provider") == Team.Provider.CLOUD
            and not cleaned.get("api_key")
            and not self.team.api_key
        ):
            self.add_error("api_key", "Enter the team's API key to use the Tengr.ai cloud.")
        return cleaned

    @transaction.atomic
    def save(self, actor) -> list[str]:
        """Apply the changes, log the security-relevant ones, and say what changed."""
        team, data, changed = self.team, self.cleaned_data, []
        if data["name"] != team.name:
            team.name = data["name"]
            changed.append("name")
        if data["provider"] != team.provider:
            team.provider = data["provider"]
            AuditEvent.record(
                team, actor, AuditEvent.Action.PROVIDER_CHANGED, team.get_provider_display()
            )
            changed.append("engine")
        if data["api_key"] and data["api_key"] != team.api_key:
            team.set_api_key(data["api_key"])
            AuditEvent.record(team, actor, AuditEvent.Action.KEY_SET, team.api_key_masked)
            changed.append("API key")
        if data["webhook_secret"] and data["webhook_secret"] != team.webhook_secret:
            team.webhook_secret = data["webhook_secret"]
            AuditEvent.record(team, actor, AuditEvent.Action.WEBHOOK_SECRET_SET)
            changed.append("webhook secret")
        limits = (data["monthly_job_limit"], data["member_monthly_job_limit"])
        if limits != (team.monthly_job_limit, team.member_monthly_job_limit):
            team.monthly_job_limit, team.member_monthly_job_limit = limits
            AuditEvent.record(
                team,
                actor,
                AuditEvent.Action.QUOTA_CHANGED,
                f"Team: {limits[0] or 'no limit'}, each member: {limits[1] or 'no limit'}",
            )
            changed.append("quotas")
        if data["content_credentials"] != team.content_credentials:
            team.content_credentials = data["content_credentials"]
            changed.append("Content Credentials " + ("on" if team.content_credentials else "off"))
        team.save()
        return changed


class ConnectionTestForm(forms.Form):
    """What the Test connection button sends: the settings form's own fields."""

    provider = forms.ChoiceField(choices=Team.Provider.choices, required=False)
    api_key = forms.CharField(required=False, max_length=500, strip=True)
    # The service the pressed button sits beside (the button's own name and value), which
    # wins over the engine chosen above it: the cloud's button tests the cloud key even while
    # the team is still on the built-in engine.
    test = forms.ChoiceField(choices=Team.Provider.choices, required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned["target"] = cleaned.get("test") or cleaned.get("provider")
        if not cleaned["target"] and not self.errors:
            raise forms.ValidationError("Choose an engine to test.")
        return cleaned


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label="Email address (optional)",
        required=False,
        help_text="We send the link there. Leave empty to copy the link and pass it on yourself.",
    )
    role = forms.ChoiceField(
        label="Role", choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class ShareLinkForm(forms.Form):
    expires_in_days = forms.TypedChoiceField(
        label="Link expires",
        choices=ShareLink.EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    ask_approval = forms.BooleanField(label="Ask for approval", required=False)


class VerdictForm(forms.Form):
    """What the client sends from a share page that asks for approval."""

    verdict = forms.ChoiceField(choices=ShareLink.Verdict.choices)
    comment = forms.CharField(
        label="Comment (optional)", required=False, max_length=2000, widget=forms.Textarea
    )
    name = forms.CharField(label="Your name (optional)", required=False, max_length=80)


class DateInput(forms.DateInput):
    input_type = "date"


class GalleryFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title or file name"}),
    )
    member = forms.ModelChoiceField(
        label="Sent by",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Anyone",
    )
    status = forms.ChoiceField(
        label="Status", choices=[("", "Any"), *Job.Status.choices], required=False
    )
    scale = forms.TypedChoiceField(
        label="Enlarge",
        choices=[("", "Any"), *Settings.SCALE_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
    )
    date_from = forms.DateField(label="From", required=False, widget=DateInput)
    date_to = forms.DateField(label="To", required=False, widget=DateInput)

    def __init__(self, *args, team: Team, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = (
            get_user_model().objects.filter(memberships__team=team).order_by("username")
        )
        self.fields["member"].label_from_instance = lambda user: user.get_username()

    def filters(self) -> Filters:
        """The filters in use. A mistyped field is ignored (and shown with its error) rather
        than hiding the results of the others."""
        self.is_valid()  # cleaned_data keeps every field that is valid
        data = {name: value for name, value in self.cleaned_data.items() if value}
        member = data.get("member")
        return Filters(
            search=data.get("q", ""),
            member_id=member.pk if member is not None else None,
            status=data.get("status", ""),
            scale=data.get("scale"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
