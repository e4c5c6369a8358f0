from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from enhancer.views import (
    accounts,
    batches,
    gallery,
    health,
    jobs,
    members,
    pages,
    previews,
    sharing,
    team_settings,
    teams,
    usage,
    webhooks,
)

urlpatterns = [
    path("", pages.home, name="home"),
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("jobs/updates/", pages.job_updates, name="job_updates"),
    # Jobs
    path("enhance/", jobs.enhance_new, name="enhance_new"),
    path("enhance/try/", previews.try_settings, name="try_settings"),
    path("enhance/size/", jobs.size_preview, name="size_preview"),
    path("previews/<uuid:preview_id>/", previews.preview_detail, name="preview_detail"),
    path("previews/<uuid:preview_id>/crop/", previews.preview_recrop, name="preview_recrop"),
    path("previews/<uuid:preview_id>/<str:key>/", previews.preview_file, name="preview_file"),
    path("jobs/<uuid:job_id>/", jobs.job_detail, name="job_detail"),
    path("jobs/<uuid:job_id>/result/", jobs.job_result, name="job_result"),
    path("jobs/<uuid:job_id>/original/", jobs.job_original, name="job_original"),
    path("jobs/<uuid:job_id>/thumbnail/", jobs.job_thumbnail, name="job_thumbnail"),
    path("jobs/<uuid:job_id>/provenance/", jobs.job_provenance, name="job_provenance"),
    path("jobs/<uuid:job_id>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<uuid:job_id>/delete/", jobs.job_delete, name="job_delete"),
    path("batches/<uuid:batch_id>/", batches.batch_detail, name="batch_detail"),
    path("batches/<uuid:batch_id>/download/", batches.batch_download, name="batch_download"),
    # Called by the API, not by people
    path("source/<path:token>", jobs.job_source, name="job_source"),
    path("hooks/jobs/<uuid:job_id>/<str:token>/", webhooks.job_webhook, name="job_webhook"),
    path("healthz", health.healthz, name="healthz"),
    # Accounts
    path("accounts/signup/", accounts.signup, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # Teams
    path("teams/", teams.team_list, name="team_list"),
    path("teams/new/", teams.team_new, name="team_new"),
    path("teams/<int:team_id>/switch/", teams.team_switch, name="team_switch"),
    path("team/members/", members.team_members, name="team_members"),
    path("team/members/<int:membership_id>/role/", members.member_role, name="member_role"),
    path("team/members/<int:membership_id>/remove/", members.member_remove, name="member_remove"),
    path("team/leave/", members.team_leave, name="team_leave"),
    path("team/invitations/", members.invitation_create, name="invitation_create"),
    path(
        "team/invitations/<int:invitation_id>/revoke/",
        members.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invite/<str:token>/", members.invitation_accept, name="invitation_accept"),
    # Team settings (team admins)
    path("team/settings/", team_settings.team_settings, name="team_settings"),
    path("team/settings/test/", team_settings.team_test_connection, name="team_test_connection"),
    path("team/settings/key/remove/", team_settings.team_key_remove, name="team_key_remove"),
    path(
        "team/settings/webhook-secret/remove/",
        team_settings.team_webhook_secret_remove,
        name="team_webhook_secret_remove",
    ),
    path("team/activity/", team_settings.team_activity, name="team_activity"),
    # Gallery and usage
    path("gallery/", gallery.gallery, name="gallery"),
    path("gallery/count/", gallery.gallery_count, name="gallery_count"),
    path("gallery/download/", gallery.gallery_download, name="gallery_download"),
    path("gallery/delete/", gallery.gallery_delete, name="gallery_delete"),
    path("usage/", usage.usage_page, name="usage"),
    path("usage/storage/", usage.usage_storage, name="usage_storage"),
    # Share links: made by members; the /s/ pages are public
    path("jobs/<uuid:job_id>/share/", sharing.share_job, name="share_job"),
    path("batches/<uuid:batch_id>/share/", sharing.share_batch, name="share_batch"),
    path("shares/<int:link_id>/revoke/", sharing.share_revoke, name="share_revoke"),
    path("s/<str:token>/", sharing.share_page, name="share_page"),
    path("shares/<int:link_id>/reopen/", sharing.share_reopen, name="share_reopen"),
    path("s/<str:token>/download/", sharing.share_download_all, name="share_download_all"),
    path("s/<str:token>/verdict/", sharing.share_verdict, name="share_verdict"),
    path("s/<str:token>/<uuid:job_id>/", sharing.share_batch_job, name="share_batch_job"),
    path("s/<str:token>/<uuid:job_id>/<str:kind>/", sharing.share_file, name="share_file"),
]
