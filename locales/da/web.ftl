# Shared by every web page: the frame, the language switch and error pages.
web-site-citizen = Budbringer – din post fra det offentlige
web-site-staff = Budbringer – sagsbehandler
web-skip-link = Gå til indholdet
web-nav-label = Hovedmenu
web-language = Sprog
web-logout = Log ud
web-footer = Har du brug for hjælp? Ring til din kommune, eller mød op.
web-error-title = Noget gik galt
web-error-back = Gå til forsiden
web-error-login = Du skal logge ind.
web-error-csrf = Siden er for gammel. Gå tilbage, hent siden igen og prøv igen.
web-error-not-found = Vi kan ikke finde siden.
web-error-gone = Indholdet er slettet og findes ikke længere.
web-error-forbidden = Du har ikke adgang til det her.
web-error-rate-limited = Du har prøvet for mange gange. Vent lidt, og prøv igen.
web-error-login-failed = Vi kunne ikke logge dig ind.
web-error-unavailable = Systemet har travlt lige nu. Prøv igen om lidt.
web-error-internal = Der skete en fejl hos os. Prøv igen senere.

# OpenID Connect login (MitID through a broker, or the authority's own login)
web-oidc-not-configured = Login med MitID eller din arbejdsplads' login er ikke sat op her.
web-oidc-provider-unavailable = Vi kan ikke komme i kontakt med login-tjenesten lige nu. Prøv igen om lidt.
web-oidc-cancelled = Du afbrød login. Du kan prøve igen, når du er klar.
web-oidc-provider-error = Login-tjenesten kunne ikke logge dig ind. Prøv igen.
web-oidc-expired = Dit login tog for lang tid eller blev startet i et andet vindue. Prøv igen.
web-oidc-invalid = Vi kunne ikke bekræfte dit login. Prøv igen.
web-oidc-no-identity = Login-tjenesten sendte ikke de oplysninger, vi skal bruge for at finde dig.
