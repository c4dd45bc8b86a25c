from django.contrib.admin.apps import AdminConfig


class ClinicalAdminConfig(AdminConfig):
    default_site = "config.admin.ClinicalAdminSite"
