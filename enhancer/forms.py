"""Forms for accounts and teams."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from enhancer.models.jobs import Settings
from enhancer.tiling.sizes import MADE_FOR_CHOICES


class SignUpForm(UserCreationForm):
    email = forms.EmailField(
        label="Email",
        help_text="Used only to reset your password and for team invitations.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def validate_password_for_user(self, user, **kwargs) -> None:
        # A weak password is the first field's problem: say so under it, where it was typed,
        # not under the confirmation (which only has to match).
        super().validate_password_for_user(user, "password1")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists. Log in instead."
            )
        return email


class TeamForm(forms.Form):
    name = forms.CharField(
        label="Team name",
        max_length=80,
        help_text="For example the name of your studio, shop or department.",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the team a name.")
        return name


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several files at once (a batch); each is checked by content later, not here."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleImageField, self).clean(item, initial) for item in files]


class EnhanceForm(forms.Form):
    images = MultipleImageField(
        label="Image file",
        required=False,
        help_text="JPEG, PNG or WebP. Choose several files at once to run them as a batch.",
    )
    image_url = forms.URLField(
        label="Image URL",
        required=False,
        assume_scheme="https",
        help_text="Or the address of an image on the web.",
    )
    scale = forms.TypedChoiceField(
        label="Enlarge", choices=Settings.SCALE_CHOICES, coerce=int, initial=2
    )
    details = forms.TypedChoiceField(
        label="Detail", choices=Settings.DETAIL_CHOICES, coerce=int, initial=2
    )
    modification = forms.TypedChoiceField(
        label="Change", choices=Settings.CHANGE_CHOICES, coerce=int, initial=2
    )
    made_for = forms.ChoiceField(
        label="Made for",
        choices=MADE_FOR_CHOICES,
        required=False,
        initial="",
        help_text="Picks the smallest Enlarge that reaches the size, then trims the result to it.",
    )
    output_format = forms.ChoiceField(
        label="Format", choices=Settings.FORMAT_CHOICES, initial="webp"
    )
    title = forms.CharField(label="Title", max_length=120, required=False)
    seed = forms.IntegerField(
        label="Seed",
        required=False,
        min_value=1,
        max_value=2_147_483_647,
        help_text="The same seed and settings give the same result. Leave empty for random.",
    )
    # An image over the API's area limit is sent in tiles at full resolution unless this is on.
    auto_fit = forms.BooleanField(
        label="Shrink to fit instead (one API job; the image is made smaller first)",
        required=False,
        initial=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Each level's one-line explanation is read with the choice (see jobs/new.html).
        for name in ("details", "modification"):
            self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_helptext"

    def level_help(self, name: str) -> dict[str, str]:
        texts = Settings.DETAIL_HELP if name == "details" else Settings.CHANGE_HELP
        return {str(level): text for level, text in texts.items()}

    def current_help(self, name: str) -> str:
        texts = Settings.DETAIL_HELP if name == "details" else Settings.CHANGE_HELP
        try:
            return texts[int(self[name].value())]
        except (TypeError, ValueError, KeyError):
            return texts[2]

    @property
    def details_help(self) -> str:
        return self.current_help("details")

    @property
    def modification_help(self) -> str:
        return self.current_help("modification")

    @property
    def details_levels(self) -> dict[str, str]:
        return self.level_help("details")

    @property
    def modification_levels(self) -> dict[str, str]:
        return self.level_help("modification")

    # Run again: the job whose stored original is used when no other image is given.
    again = forms.UUIDField(required=False, widget=forms.HiddenInput)

    REMEMBERED = ("scale", "details", "modification", "output_format", "made_for")

    def clean(self) -> dict:
        cleaned = super().clean()
        has_files = bool(cleaned.get("images"))
        has_url = bool(cleaned.get("image_url"))
        if has_files or has_url:
            # A file or URL given on purpose wins over the earlier job's image.
            cleaned["again"] = None
        elif cleaned.get("again"):
            return cleaned
        if not has_files and not has_url and not self.errors:
            raise forms.ValidationError("Choose an image file or paste an image URL.")
        if has_files and has_url:
            raise forms.ValidationError("Use either image files or an image URL, not both at once.")
        return cleaned

    def remembered_choices(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.REMEMBERED}
