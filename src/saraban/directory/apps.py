from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "saraban.directory"
    label = "directory"
    verbose_name = "ทำเนียบหน่วยงาน / Directory"
