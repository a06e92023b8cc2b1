from django.urls import path

from kotacerdas.pilot import views_trial

app_name = "pilot_trial"

urlpatterns = [
    path("<slug:slug>/report/", views_trial.trial_report, name="report"),
    path("<slug:slug>/report.pdf", views_trial.trial_report_pdf, name="report_pdf"),
    path("<slug:slug>/baseline/", views_trial.baseline_page, name="baseline"),
]
