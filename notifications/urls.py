from django.urls import path

from notifications import views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/unread/", views.notifications_unread, name="notifications_unread"),
    path("notifications/read/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification_read"),
    path("products/<slug:slug>/notifications/", views.notification_settings, name="notification_settings"),
]
