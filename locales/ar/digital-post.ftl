# digital-post channel (ar). Keys start with "digital-post-".

# The notification Digital Post shows (at most 150 characters; longer ones are cut).
digital-post-notification = وصلك بريد من { $sender }: { $subject }
digital-post-notification-important = رسالة مهمة من { $sender }: { $subject }
# The letter text as a file, and its label when a PDF is the main document.
digital-post-letter-filename = رسالة.txt
digital-post-letter-text-label = نص الرسالة
# The action on important letters that opens the reading link.
digital-post-action-read = اقرأ الرسالة
# Labels of the sender's contact details.
digital-post-contact-phone = الهاتف
digital-post-contact-email = البريد الإلكتروني
digital-post-contact-hours = أوقات الاتصال الهاتفي
# Answers of the status-receipt endpoint.
digital-post-receipt-unauthorized = أرسل المفتاح المتفق عليه في الترويسة Authorization: Bearer <المفتاح>.
digital-post-receipt-unknown-message = لا يوجد إرسال بهذا المعرّف messageUUID.
digital-post-receipt-bad-uuid = يجب أن يكون UUID.
