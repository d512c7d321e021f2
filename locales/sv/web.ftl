# Shared by every web page: the frame, the language switch and error pages.
web-site-citizen = Budbringer – din post från myndigheter
web-site-staff = Budbringer – handläggare
web-skip-link = Gå till innehållet
web-nav-label = Huvudmeny
web-language = Språk
web-logout = Logga ut
web-footer = Behöver du hjälp? Ring din kommun eller kom förbi.
web-error-title = Något gick fel
web-error-back = Gå till startsidan
web-error-login = Du måste logga in.
web-error-csrf = Sidan är för gammal. Gå tillbaka, ladda om sidan och försök igen.
web-error-not-found = Vi hittar inte sidan.
web-error-gone = Innehållet har raderats och finns inte längre.
web-error-forbidden = Du har inte tillgång till detta.
web-error-rate-limited = Du har försökt för många gånger. Vänta lite och försök igen.
web-error-login-failed = Vi kunde inte logga in dig.
web-error-unavailable = Systemet är upptaget just nu. Försök igen om en stund.
web-error-internal = Något gick fel hos oss. Försök igen senare.

# OpenID Connect login (MitID through a broker, or the authority's own login)
web-oidc-not-configured = Inloggning med MitID eller din arbetsplats inloggning är inte inställd här.
web-oidc-provider-unavailable = Vi når inte inloggningstjänsten just nu. Försök igen om en stund.
web-oidc-cancelled = Du avbröt inloggningen. Du kan försöka igen när du är redo.
web-oidc-provider-error = Inloggningstjänsten kunde inte logga in dig. Försök igen.
web-oidc-expired = Din inloggning tog för lång tid eller startades i ett annat fönster. Försök igen.
web-oidc-invalid = Vi kunde inte bekräfta din inloggning. Försök igen.
web-oidc-no-identity = Inloggningstjänsten skickade inte de uppgifter vi behöver för att hitta dig.
