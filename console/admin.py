from django.contrib import admin

from console.sign_in import AdminSignInForm

# The admin's sign-in counts against the same limits as the console's (console/sign_in.py).
admin.site.login_form = AdminSignInForm
