# digital-post channel (da). Keys start with "digital-post-".

# The notification Digital Post shows (at most 150 characters; longer ones are cut).
digital-post-notification = Du har fået post fra { $sender }: { $subject }
digital-post-notification-important = Vigtigt brev fra { $sender }: { $subject }
# The letter text as a file, and its label when a PDF is the main document.
digital-post-letter-filename = brev.txt
digital-post-letter-text-label = Brevtekst
# The action on important letters that opens the reading link.
digital-post-action-read = Læs brevet
# Labels of the sender's contact details.
digital-post-contact-phone = Telefon
digital-post-contact-email = E-mail
digital-post-contact-hours = Telefontid
# Answers of the status-receipt endpoint.
digital-post-receipt-unauthorized = Send den aftalte nøgle i headeren Authorization: Bearer <nøgle>.
digital-post-receipt-unknown-message = Der er ingen forsendelse med dette messageUUID.
digital-post-receipt-bad-uuid = Skal være et UUID.
