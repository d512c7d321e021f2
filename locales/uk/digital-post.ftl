# digital-post channel (uk). Keys start with "digital-post-".

# The notification Digital Post shows (at most 150 characters; longer ones are cut).
digital-post-notification = Вам прийшла пошта від { $sender }: { $subject }
digital-post-notification-important = Важливий лист від { $sender }: { $subject }
# The letter text as a file, and its label when a PDF is the main document.
digital-post-letter-filename = лист.txt
digital-post-letter-text-label = Текст листа
# The action on important letters that opens the reading link.
digital-post-action-read = Прочитати лист
# Labels of the sender's contact details.
digital-post-contact-phone = Телефон
digital-post-contact-email = E-mail
digital-post-contact-hours = Години для дзвінків
# Answers of the status-receipt endpoint.
digital-post-receipt-unauthorized = Надішліть узгоджений ключ у заголовку Authorization: Bearer <ключ>.
digital-post-receipt-unknown-message = Немає відправлення з цим messageUUID.
digital-post-receipt-bad-uuid = Має бути UUID.
