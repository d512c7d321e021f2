# Budbringer — dansk (standard). Klart sprog: kort, venligt, konkret.

## Fejl i API'et: overskrifter (RFC 9457 "title")
problem-bad-request = Forespørgslen kan ikke læses
problem-unauthorized = Du er ikke logget ind
problem-forbidden = Du har ikke adgang
problem-not-found = Findes ikke
problem-method-not-allowed = Metoden er ikke tilladt her
problem-conflict = Konflikt
problem-gone = Findes ikke længere
problem-too-large = Forespørgslen er for stor
problem-unsupported-media-type = Forkert indholdstype
problem-invalid = Nogle felter er ikke udfyldt rigtigt
problem-rate-limited = For mange forespørgsler
problem-unavailable = Tjenesten er midlertidigt utilgængelig
problem-internal = Der skete en fejl hos os

## Fejl i API'et: forklaringer ("detail")
detail-malformed-json = Indholdet er ikke gyldig JSON: { $problem }
detail-json-content-type = Send indholdet som JSON med Content-Type: application/json.
detail-missing-api-key = Send din API-nøgle i headeren Authorization: Bearer <nøgle>.
detail-bad-api-key = API-nøglen er ukendt eller trukket tilbage.
detail-letter-not-found = Der er intet brev med dette id hos jeres myndighed.
detail-webhook-not-found = Der er ingen webhook med dette id hos jeres myndighed.
detail-content-deleted = Brevets indhold er slettet efter reglen om opbevaring. Forløbet findes stadig.
detail-route-not-found = Adressen findes ikke i API'et.
detail-method-not-allowed = Adressen findes, men ikke med denne HTTP-metode.
detail-idempotency-mismatch = Idempotency-Key er allerede brugt til en anden forespørgsel. Brug en ny nøgle til et nyt brev.
detail-cannot-cancel = Brevet kan ikke annulleres, fordi det allerede er { $status }.
detail-body-too-large = Forespørgslen fylder mere end de tilladte { $max } bytes.
detail-too-large-fields = Et eller flere dokumenter er for store eller for mange.
detail-invalid-fields = Ret felterne i listen "errors" og prøv igen.
detail-rate-limited = Vent { $seconds } sekunder, og prøv så igen.
detail-unavailable = Databasen kan ikke nås lige nu. Intet er gemt. Prøv igen om lidt.
detail-internal = Prøv igen om lidt. Fejlen er logget.

## Fejl i enkelte felter
error-required = Feltet skal udfyldes.
error-too-long = Feltet må højst have { $max } tegn.
error-control-chars = Feltet må ikke indeholde kontroltegn.
error-cpr-format = Et CPR-nummer har 10 cifre (DDMMÅÅXXXX, evt. med bindestreg efter datoen).
error-cpr-date = De første seks cifre i et CPR-nummer skal være en rigtig dato (DDMMÅÅ).
error-body-or-document = Brevet skal have en tekst eller mindst ét dokument.
error-date-format = Skriv datoen som ÅÅÅÅ-MM-DD.
error-date-past = Fristen må ikke ligge før i dag.
error-too-many-documents = Et brev må højst have { $max } dokumenter.
error-document-too-large = Et dokument må højst fylde { $max } bytes.
error-not-pdf = Dokumentet er ikke en PDF-fil.
error-pdf-encrypted = PDF-filen er krypteret eller beskyttet med adgangskode og kan hverken udskrives eller vedlægges brevet. Send den uden kryptering.
error-base64 = Indholdet skal være base64-kodet.
error-filename = Filnavnet må ikke indeholde skråstreger eller kontroltegn eller begynde med punktum.
error-filename-pdf = Filnavnet skal slutte på .pdf.
error-country = Landekoden skal være to store bogstaver (ISO 3166-1), fx DK.
error-postcode = Et dansk postnummer har fire cifre.
error-phone = Telefonnummeret skal have 8 til 15 cifre.
error-email = E-mailadressen er ikke gyldig.
error-url = Adressen skal være en http- eller https-URL.
error-webhook-secret = Hemmeligheden skal være "whsec_" efterfulgt af 24 til 64 base64-kodede bytes.
error-json-missing = Feltet mangler.
error-json-unknown-field = Feltet kendes ikke.
error-json-type = Feltet har en forkert type: { $problem }
error-query-value = Værdien kan ikke bruges: { $problem }
detail-citizen-not-found = Der er ingen borger med dette id.
error-language = Skriv sproget som en sprogkode, fx da, en eller uk.
error-letter-channel = Breve kan komme med digital_post, print eller phone.
error-notice-channel = Besked om nye breve kan komme med sms eller email.
detail-alert-not-found = Der er ingen åben advarsel med dette id hos jeres myndighed.
detail-callback-not-found = Der er ingen åben opringning med dette id hos jeres myndighed.
error-minutes = Minutter skal være et tal fra 0 til 600.
error-via = Skriv hvordan med små bogstaver, fx counter, phone eller letter.
error-category = Kategorien må have 1-50 tegn: a-z, 0-9, _ og -.
error-office-hours = Skriv åbningstiden som "mon-fri 09:00-15:00" og tidszonen som fx Europe/Copenhagen.
error-helper-unreachable = Hjælperen skal have et telefonnummer eller en e-mail (besked) eller en adresse (kopi).
error-helper-consent = Borgeren skal have sagt ja til hjælperen (consent: true).
error-too-many-days = Højst 366 lukkedage.
error-idempotency-key = Idempotency-Key skal have 1 til 255 synlige tegn.

## Beskeder til borgeren
callback-summary = Ring til borgeren om brevet "{ $subject }" fra { $sender }.
callback-requested-summary = Borgeren har svaret RING på SMS-beskeden om brevet "{ $subject }" fra { $sender } og vil gerne ringes op.
callback-deadline = Fristen er { $date }.
callback-language = Borgeren læser helst { $language }.
callback-large-print = Borgeren har brug for stor skrift.

## API-dokumentation (/docs)
docs-title = Budbringer: API for myndigheder
docs-intro = Send breve til borgere, følg levering, åbning og eskalering, og modtag hændelser.
docs-auth = Alle kald under /v1 kræver en API-nøgle i headeren Authorization: Bearer <nøgle>.
docs-openapi-link = Hele beskrivelsen som OpenAPI (JSON)
docs-operations = Kald
docs-parameters = Parametre
docs-name = Navn
docs-in = Hvor
docs-description = Beskrivelse
docs-request = Indhold
docs-responses = Svar
docs-schemas = Datatyper
docs-field = Felt
docs-type = Type
docs-required = skal udfyldes
docs-problems = Fejltyper
docs-problems-intro = Fejl svarer med application/problem+json (RFC 9457). Feltet "type" peger hertil, og "errors" nævner hvert forkert felt.

## Dates (a date in words, e.g. in deadlines)
date-long = { $day }. { $month ->
        [jan] januar
        [feb] februar
        [mar] marts
        [apr] april
        [may] maj
        [jun] juni
        [jul] juli
        [aug] august
        [sep] september
        [oct] oktober
        [nov] november
       *[dec] december
    } { $year }

## Læsesiden (/l/…)
reading-from = Brev fra { $sender }
reading-what-to-do = Det skal du gøre
reading-deadline = Svar senest { $date }.
reading-deadline-extended = Din frist er forlænget. Svar senest { $date }.
reading-documents = Dokumenter
reading-content-deleted = Vi har slettet brevets tekst og bilag den { $date }. Vi gemmer et brev i { $days } dage, efter at fristen er gået. Det, der skete med brevet, kan du stadig se.
reading-contact = Spørgsmål? Kontakt { $sender }: { $contact }.
detail-reading-link-not-found = Linket virker ikke. Det kan være udløbet. Log ind i Digital Post for at læse brevet.
reading-code-title = Få en kode til dit brev
reading-code-explain = Linket kan være sendt videre, så vi sender først en kode til din telefon, der slutter på { $last }.
reading-code-send = Send mig en kode
reading-code-label = Skriv koden (6 cifre)
reading-code-open = Åbn brevet
reading-code-sent = Vi har sendt en kode til din telefon. Den virker i 10 minutter.
reading-code-wrong = Koden er forkert. Prøv igen.
reading-code-expired = Koden virker ikke længere. Bed om en ny kode.
reading-code-too-many = Du har bedt om mange koder. Vent et kvarter, og prøv igen.
reading-code-no-phone = Vi har ikke dit telefonnummer. Log ind i Digital Post for at læse brevet, eller ring til afsenderen.
reading-code-sms = Din kode til brevet fra { $sender }: { $code }. Giv den ikke til andre.
