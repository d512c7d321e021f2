# digital-post channel (en). Keys start with "digital-post-".

# The notification Digital Post shows (at most 150 characters; longer ones are cut).
digital-post-notification = You have mail from { $sender }: { $subject }
digital-post-notification-important = Important letter from { $sender }: { $subject }
# The letter text as a file, and its label when a PDF is the main document.
digital-post-letter-filename = letter.txt
digital-post-letter-text-label = Letter text
# The action on important letters that opens the reading link.
digital-post-action-read = Read the letter
# Labels of the sender's contact details.
digital-post-contact-phone = Phone
digital-post-contact-email = Email
digital-post-contact-hours = Phone hours
# Answers of the status-receipt endpoint.
digital-post-receipt-unauthorized = Send the agreed key in the header Authorization: Bearer <key>.
digital-post-receipt-unknown-message = There is no delivery with this messageUUID.
digital-post-receipt-bad-uuid = Must be a UUID.
