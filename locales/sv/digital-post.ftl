# digital-post channel (sv). Keys start with "digital-post-".

# The notification Digital Post shows (at most 150 characters; longer ones are cut).
digital-post-notification = Du har fått post från { $sender }: { $subject }
digital-post-notification-important = Viktigt brev från { $sender }: { $subject }
# The letter text as a file, and its label when a PDF is the main document.
digital-post-letter-filename = brev.txt
digital-post-letter-text-label = Brevtext
# The action on important letters that opens the reading link.
digital-post-action-read = Läs brevet
# Labels of the sender's contact details.
digital-post-contact-phone = Telefon
digital-post-contact-email = E-post
digital-post-contact-hours = Telefontid
# Answers of the status-receipt endpoint.
digital-post-receipt-unauthorized = Skicka den överenskomna nyckeln i headern Authorization: Bearer <nyckel>.
digital-post-receipt-unknown-message = Det finns ingen försändelse med detta messageUUID.
digital-post-receipt-bad-uuid = Måste vara ett UUID.
