# Shared by every web page: the frame, the language switch and error pages.
web-site-citizen = Budbringer – your post from public authorities
web-site-staff = Budbringer – caseworker
web-skip-link = Skip to content
web-nav-label = Main menu
web-language = Language
web-logout = Log out
web-footer = Need help? Call your municipality, or come by in person.
web-error-title = Something went wrong
web-error-back = Go to the front page
web-error-login = Please log in.
web-error-csrf = This page is too old. Go back, reload the page and try again.
web-error-not-found = We cannot find this page.
web-error-gone = This content was deleted and is no longer here.
web-error-forbidden = You do not have access to this.
web-error-rate-limited = You have tried too many times. Wait a little and try again.
web-error-login-failed = We could not log you in.
web-error-unavailable = The system is busy right now. Try again in a moment.
web-error-internal = Something went wrong on our side. Try again later.

# OpenID Connect login (MitID through a broker, or the authority's own login)
web-oidc-not-configured = Logging in with MitID or your workplace login is not set up here.
web-oidc-provider-unavailable = We cannot reach the login service right now. Try again in a moment.
web-oidc-cancelled = You cancelled the login. You can try again when you are ready.
web-oidc-provider-error = The login service could not log you in. Try again.
web-oidc-expired = Your login took too long or was started in another window. Try again.
web-oidc-invalid = We could not confirm your login. Try again.
web-oidc-no-identity = The login service did not send the details we need to find you.
