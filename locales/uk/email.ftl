# email channel (uk). Keys start with "email-".
email-subject = Вам прийшов лист від { $sender }
email-intro = Вам прийшов новий лист від { $sender }.
email-important = Це важливий лист. Прочитайте його якомога швидше.
email-deadline = Дайте відповідь до { $date }.
email-deadline-extended = Ваш строк продовжено. Дайте відповідь до { $date }.
email-how-to-read = Ви можете прочитати лист у Digital Post: { $url }. Самого листа в цьому e-mail немає.
email-how-to-read-link = Прочитайте лист тут: { $url }. Перш ніж показати лист, ми надішлемо код на ваш телефон. Самого листа в цьому e-mail немає.
email-how-to-read-paper = Лист прийде поштою. Самого листа в цьому e-mail немає.
email-contact = Якщо у вас є питання або вам потрібна допомога, щоб прочитати лист, зверніться до { $sender }: { $contact }.
email-footer = Цей e-mail надіслано автоматично. Відповісти на нього не можна.
email-helper-subject = { $citizen } має непрочитаний лист від { $sender }
email-helper-body = { $citizen } має важливий лист від { $sender }, який ще не прочитано. { $citizen } просить повідомити вас. Будь ласка, допоможіть прочитати лист. Самого листа в цьому e-mail немає.
