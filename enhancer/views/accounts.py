"""Sign-up. Log in, log out and password management are Django's own views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from enhancer.forms import SignUpForm


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    is_first_account = not get_user_model().objects.exists()
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            # The first account on a fresh install runs the site, so Django admin works
            # without anyone having to know about `createsuperuser`.
            first = not get_user_model().objects.select_for_update().exists()
            user = form.save(commit=False)
            user.is_staff = user.is_superuser = first
            user.save()
        login(request, user, backend="enhancer.auth_backend.ModelBackend")
        if first:
            messages.success(
                request,
                "Welcome! As the first person here you are the site administrator: "
                "the Admin link opens Django admin.",
            )
        else:
            messages.success(request, "Welcome to Detailer!")
        next_url = request.POST.get("next") or request.GET.get("next")
        if next_url and next_url.startswith("/") and not next_url.startswith("//"):
            return redirect(next_url)
        return redirect("dashboard")
    return render(
        request,
        "registration/signup.html",
        {"form": form, "is_first_account": is_first_account},
    )
