# Budbringer — English. Plain language: short, kind, concrete.

## API problems: titles (RFC 9457 "title")
problem-bad-request = The request cannot be read
problem-unauthorized = You are not signed in
problem-forbidden = You do not have access
problem-not-found = Not found
problem-method-not-allowed = Method not allowed here
problem-conflict = Conflict
problem-gone = No longer here
problem-too-large = The request is too large
problem-unsupported-media-type = Wrong content type
problem-invalid = Some fields are not filled in correctly
problem-rate-limited = Too many requests
problem-unavailable = The service is temporarily unavailable
problem-internal = Something went wrong on our side

## API problems: explanations ("detail")
detail-malformed-json = The content is not valid JSON: { $problem }
detail-json-content-type = Send the content as JSON with Content-Type: application/json.
detail-missing-api-key = Send your API key in the header Authorization: Bearer <key>.
detail-bad-api-key = The API key is unknown or revoked.
detail-letter-not-found = Your authority has no letter with this id.
detail-webhook-not-found = Your authority has no webhook with this id.
detail-content-deleted = The letter's content was deleted under the retention rule. Its timeline is kept.
detail-route-not-found = This address does not exist in the API.
detail-method-not-allowed = This address exists, but not with this HTTP method.
detail-idempotency-mismatch = This Idempotency-Key was already used for a different request. Use a new key for a new letter.
detail-cannot-cancel = The letter cannot be cancelled because it is already { $status }.
detail-body-too-large = The request is larger than the allowed { $max } bytes.
detail-too-large-fields = One or more documents are too large or too many.
detail-invalid-fields = Correct the fields listed in "errors" and try again.
detail-rate-limited = Wait { $seconds } seconds, then try again.
detail-unavailable = The database cannot be reached right now. Nothing was stored. Try again shortly.
detail-internal = Try again shortly. The error has been logged.

## Problems with single fields
error-required = This field is required.
error-too-long = This field may have at most { $max } characters.
error-control-chars = This field must not contain control characters.
error-cpr-format = A CPR number has 10 digits (DDMMYYXXXX, optionally with a hyphen after the date).
error-cpr-date = The first six digits of a CPR number must be a real date (DDMMYY).
error-body-or-document = The letter needs a text or at least one document.
error-date-format = Write the date as YYYY-MM-DD.
error-date-past = The deadline must not be before today.
error-too-many-documents = A letter may have at most { $max } documents.
error-document-too-large = A document may be at most { $max } bytes.
error-not-pdf = The document is not a PDF file.
error-pdf-encrypted = The PDF is encrypted or password-protected; it can be neither printed nor appended to the letter. Send it without encryption.
error-base64 = The content must be base64-encoded.
error-filename = The file name must not contain slashes or control characters or start with a dot.
error-filename-pdf = The file name must end in .pdf.
error-country = The country code must be two capital letters (ISO 3166-1), e.g. DK.
error-postcode = A Danish postcode has four digits.
error-phone = The phone number must have 8 to 15 digits.
error-email = The e-mail address is not valid.
error-url = The address must be an http or https URL.
error-webhook-secret = The secret must be "whsec_" followed by 24 to 64 base64-encoded bytes.
error-json-missing = This field is missing.
error-json-unknown-field = This field is not known.
error-json-type = This field has the wrong type: { $problem }
error-query-value = This value cannot be used: { $problem }
detail-citizen-not-found = There is no citizen with this id.
error-language = Write the language as a language code, e.g. da, en or uk.
error-letter-channel = Letters can come by digital_post, print or phone.
error-notice-channel = Notices about new letters can come by sms or email.
detail-alert-not-found = Your authority has no open alert with this id.
detail-callback-not-found = Your authority has no open callback with this id.
error-minutes = Minutes must be a number from 0 to 600.
error-via = Say how in lower case, e.g. counter, phone or letter.
error-category = The category may have 1-50 characters: a-z, 0-9, _ and -.
error-office-hours = Write the office hours as "mon-fri 09:00-15:00" and the time zone as e.g. Europe/Copenhagen.
error-helper-unreachable = The helper needs a phone number or e-mail (notice) or an address (copy).
error-helper-consent = The citizen must have agreed to the helper (consent: true).
error-too-many-days = At most 366 closing days.
error-idempotency-key = The Idempotency-Key must have 1 to 255 visible characters.

## Messages to the citizen
callback-summary = Call the citizen about the letter "{ $subject }" from { $sender }.
callback-requested-summary = The citizen answered CALL to the SMS notice about the letter "{ $subject }" from { $sender } and wants to be called.
callback-deadline = The deadline is { $date }.
callback-language = The citizen prefers to read { $language }.
callback-large-print = The citizen needs large print.

## API documentation (/docs)
docs-title = Budbringer: API for authorities
docs-intro = Send letters to citizens, follow delivery, opening and escalation, and receive events.
docs-auth = Every call under /v1 needs an API key in the header Authorization: Bearer <key>.
docs-openapi-link = The full description as OpenAPI (JSON)
docs-operations = Operations
docs-parameters = Parameters
docs-name = Name
docs-in = In
docs-description = Description
docs-request = Body
docs-responses = Responses
docs-schemas = Data types
docs-field = Field
docs-type = Type
docs-required = required
docs-problems = Problem types
docs-problems-intro = Errors answer with application/problem+json (RFC 9457). Its "type" points here, and "errors" names each bad field.

## Dates (a date in words, e.g. in deadlines)
date-long = { $day } { $month ->
        [jan] January
        [feb] February
        [mar] March
        [apr] April
        [may] May
        [jun] June
        [jul] July
        [aug] August
        [sep] September
        [oct] October
        [nov] November
       *[dec] December
    } { $year }

## The reading page (/l/…)
reading-from = Letter from { $sender }
reading-what-to-do = What you need to do
reading-deadline = Reply by { $date } at the latest.
reading-deadline-extended = Your deadline has been extended. Reply by { $date } at the latest.
reading-documents = Documents
reading-content-deleted = The text and documents of this letter were deleted on { $date }. We keep a letter for { $days } days after its deadline has passed. What happened to the letter can still be seen.
reading-contact = Questions? Contact { $sender }: { $contact }.
detail-reading-link-not-found = The link does not work. It may have expired. Log in to Digital Post to read the letter.
reading-code-title = Get a code for your letter
reading-code-explain = The link may have been passed on, so first we send a code to your phone ending in { $last }.
reading-code-send = Send me a code
reading-code-label = Enter the code (6 digits)
reading-code-open = Open the letter
reading-code-sent = We have sent a code to your phone. It works for 10 minutes.
reading-code-wrong = The code is wrong. Try again.
reading-code-expired = The code no longer works. Ask for a new one.
reading-code-too-many = You have asked for many codes. Wait a quarter of an hour and try again.
reading-code-no-phone = We do not have your phone number. Log in to Digital Post to read the letter, or call the sender.
reading-code-sms = Your code for the letter from { $sender }: { $code }. Do not give it to anyone.
