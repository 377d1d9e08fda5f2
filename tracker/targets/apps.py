from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = 'tracker.targets'
