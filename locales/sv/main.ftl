# Budbringer — Swedish (sv). Plain language (klarspråk): short, kind, concrete.

## API problems: titles (RFC 9457 "title")
problem-bad-request = Anropet kan inte läsas
problem-unauthorized = Du är inte inloggad
problem-forbidden = Du har inte åtkomst
problem-not-found = Finns inte
problem-method-not-allowed = Metoden är inte tillåten här
problem-conflict = Konflikt
problem-gone = Finns inte längre
problem-too-large = Anropet är för stort
problem-unsupported-media-type = Fel innehållstyp
problem-invalid = Några fält är inte rätt ifyllda
problem-rate-limited = För många anrop
problem-unavailable = Tjänsten är tillfälligt otillgänglig
problem-internal = Det blev ett fel hos oss

## API problems: explanations ("detail")
detail-malformed-json = Innehållet är inte giltig JSON: { $problem }
detail-json-content-type = Skicka innehållet som JSON med Content-Type: application/json.
detail-missing-api-key = Skicka din API-nyckel i headern Authorization: Bearer <nyckel>.
detail-bad-api-key = API-nyckeln är okänd eller återkallad.
detail-letter-not-found = Er myndighet har inget brev med detta id.
detail-webhook-not-found = Er myndighet har ingen webhook med detta id.
detail-content-deleted = Brevets innehåll har raderats enligt regeln för lagringstid. Förloppet finns kvar.
detail-route-not-found = Adressen finns inte i API:et.
detail-method-not-allowed = Adressen finns, men inte med den här HTTP-metoden.
detail-idempotency-mismatch = Idempotency-Key har redan använts för ett annat anrop. Använd en ny nyckel för ett nytt brev.
detail-cannot-cancel = Brevet kan inte stoppas eftersom det redan är { $status }.
detail-body-too-large = Anropet är större än de tillåtna { $max } byte.
detail-too-large-fields = Ett eller flera dokument är för stora eller för många.
detail-invalid-fields = Rätta fälten i listan "errors" och försök igen.
detail-rate-limited = Vänta { $seconds } sekunder och försök sedan igen.
detail-unavailable = Databasen kan inte nås just nu. Inget har sparats. Försök igen om en stund.
detail-internal = Försök igen om en stund. Felet har loggats.

## Problems with single fields
error-required = Fältet måste fyllas i.
error-too-long = Fältet får ha högst { $max } tecken.
error-control-chars = Fältet får inte innehålla kontrolltecken.
error-cpr-format = Ett CPR-nummer har 10 siffror (DDMMÅÅXXXX, eventuellt med bindestreck efter datumet).
error-cpr-date = De första sex siffrorna i ett CPR-nummer måste vara ett riktigt datum (DDMMÅÅ).
error-body-or-document = Brevet måste ha en text eller minst ett dokument.
error-date-format = Skriv datumet som ÅÅÅÅ-MM-DD.
error-date-past = Fristen får inte vara före i dag.
error-too-many-documents = Ett brev får ha högst { $max } dokument.
error-document-too-large = Ett dokument får vara högst { $max } byte.
error-not-pdf = Dokumentet är inte en PDF-fil.
error-pdf-encrypted = PDF-filen är krypterad eller lösenordsskyddad. Den kan inte skrivas ut och inte bifogas brevet. Skicka den utan kryptering.
error-base64 = Innehållet måste vara base64-kodat.
error-filename = Filnamnet får inte innehålla snedstreck eller kontrolltecken och får inte börja med punkt.
error-filename-pdf = Filnamnet måste sluta på .pdf.
error-country = Landskoden måste vara två versaler (ISO 3166-1), t.ex. DK.
error-postcode = Ett danskt postnummer har fyra siffror.
error-phone = Telefonnumret måste ha 8 till 15 siffror.
error-email = E-postadressen är inte giltig.
error-url = Adressen måste vara en http- eller https-URL.
error-webhook-secret = Hemligheten måste vara "whsec_" följt av 24 till 64 base64-kodade byte.
error-json-missing = Fältet saknas.
error-json-unknown-field = Fältet är okänt.
error-json-type = Fältet har fel typ: { $problem }
error-query-value = Värdet kan inte användas: { $problem }
detail-citizen-not-found = Det finns ingen medborgare med detta id.
error-language = Skriv språket som en språkkod, t.ex. da, en eller uk.
error-letter-channel = Brev kan skickas med digital_post, print eller phone.
error-notice-channel = Meddelanden om nya brev kan skickas med sms eller email.
detail-alert-not-found = Er myndighet har ingen öppen varning med detta id.
detail-callback-not-found = Er myndighet har inget öppet samtal med detta id.
error-minutes = Minuter måste vara ett tal från 0 till 600.
error-via = Skriv hur med små bokstäver, t.ex. counter, phone eller letter.
error-category = Kategorin får ha 1-50 tecken: a-z, 0-9, _ och -.
error-office-hours = Skriv öppettiden som "mon-fri 09:00-15:00" och tidszonen som t.ex. Europe/Copenhagen.
error-helper-unreachable = Hjälparen måste ha ett telefonnummer eller en e-postadress (meddelande) eller en adress (kopia).
error-helper-consent = Medborgaren måste ha sagt ja till hjälparen (consent: true).
error-too-many-days = Högst 366 stängda dagar.
error-idempotency-key = Idempotency-Key måste ha 1 till 255 synliga tecken.

## Messages to the citizen
callback-summary = Ring medborgaren om brevet "{ $subject }" från { $sender }.
callback-requested-summary = Medborgaren har svarat RING på sms:et om brevet "{ $subject }" från { $sender } och vill bli uppringd.
callback-deadline = Fristen är { $date }.
callback-language = Medborgaren läser helst { $language }.
callback-large-print = Medborgaren behöver stor text.

## API documentation (/docs)
docs-title = Budbringer: API för myndigheter
docs-intro = Skicka brev till medborgare, följ leverans, öppning och eskalering, och ta emot händelser.
docs-auth = Alla anrop under /v1 kräver en API-nyckel i headern Authorization: Bearer <nyckel>.
docs-openapi-link = Hela beskrivningen som OpenAPI (JSON)
docs-operations = Anrop
docs-parameters = Parametrar
docs-name = Namn
docs-in = Var
docs-description = Beskrivning
docs-request = Innehåll
docs-responses = Svar
docs-schemas = Datatyper
docs-field = Fält
docs-type = Typ
docs-required = måste fyllas i
docs-problems = Feltyper
docs-problems-intro = Fel svarar med application/problem+json (RFC 9457). Fältet "type" pekar hit, och "errors" nämner varje felaktigt fält.

## Dates (a date in words, e.g. in deadlines)
date-long = { $day } { $month ->
        [jan] januari
        [feb] februari
        [mar] mars
        [apr] april
        [may] maj
        [jun] juni
        [jul] juli
        [aug] augusti
        [sep] september
        [oct] oktober
        [nov] november
       *[dec] december
    } { $year }

## The reading page (/l/…)
reading-from = Brev från { $sender }
reading-what-to-do = Det här ska du göra
reading-deadline = Svara senast { $date }.
reading-deadline-extended = Du har fått mer tid. Svara senast { $date }.
reading-documents = Dokument
reading-content-deleted = Vi raderade brevets text och bilagor den { $date }. Vi sparar ett brev i { $days } dagar efter att fristen har gått ut. Du kan fortfarande se vad som hänt med brevet.
reading-contact = Har du frågor? Kontakta { $sender }: { $contact }.
detail-reading-link-not-found = Länken fungerar inte. Den kan ha gått ut. Logga in i Digital Post för att läsa brevet.
reading-code-title = Få en kod till ditt brev
reading-code-explain = Länken kan ha skickats vidare. Därför skickar vi först en kod till din telefon som slutar på { $last }.
reading-code-send = Skicka en kod till mig
reading-code-label = Skriv koden (6 siffror)
reading-code-open = Öppna brevet
reading-code-sent = Vi har skickat en kod till din telefon. Den gäller i 10 minuter.
reading-code-wrong = Koden är fel. Försök igen.
reading-code-expired = Koden gäller inte längre. Be om en ny kod.
reading-code-too-many = Du har bett om många koder. Vänta en kvart och försök igen.
reading-code-no-phone = Vi har inte ditt telefonnummer. Logga in i Digital Post för att läsa brevet, eller ring avsändaren.
reading-code-sms = Din kod till brevet från { $sender }: { $code }. Ge den inte till någon.
