from django.contrib import admin

from leadops.outbox.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: what was sent to the workers, and what still waits for the broker (and why)."""

    list_display = ["id", "task", "args", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["task"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # An unsent message is work promised to a worker; the outbox sweep deletes the sent ones.
        return False
