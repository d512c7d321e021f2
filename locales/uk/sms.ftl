# sms channel (uk). Keys start with "sms-".
# The notice is put together from these parts, in this order. It must never name the
# letter's subject or content: an SMS shows on a locked screen. Cyrillic cannot travel in the
# GSM alphabet, so the SMS goes as UCS-2: 70 characters in one segment, 67 per part when split.
# Keep each part short: for an ordinary authority name, a whole notice (important + read +
# deadline + callback) must fit in 3 segments (about 200 characters).
sms-notice-important = Важливий лист від { $sender }.
sms-notice = Новий лист від { $sender }.
sms-read = Читайте на borger.dk або в застосунку Digital Post.
sms-read-paper = Лист прийде поштою.
sms-deadline = Строк: { $date }.
sms-deadline-extended = Строк продовжено до { $date }.
sms-callback = Щоб вам подзвонили, надішліть у відповідь { $keyword }.
# The word a citizen replies to be called; replies in any language's word are understood.
sms-callback-keyword = ДЗВІНОК
sms-helper-notice = { $citizen } має важливий лист від { $sender }, який ще не прочитано. { $citizen } просить повідомити вас. Будь ласка, допоможіть прочитати лист.
