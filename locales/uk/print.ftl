# print channel (uk). Keys start with "print-".

# Footer on every page of the letter.
print-page = Сторінка { $page } з { $pages }

# Dates: $day and $year are numbers, $month and $weekday come from the lists below.
print-date = { $day } { $month } { $year }
print-date-long = { $weekday }, { $day } { $month } { $year }
print-letter-date = Дата: { $date }
print-deadline = Дайте відповідь до { $date }.
print-deadline-extended = Ваш строк продовжено. Дайте відповідь до { $date }.

# Sender block.
print-phone = Телефон: { $phone }
print-hours = Години для дзвінків: { $hours }
print-email = E-mail: { $email }
print-reference = Номер справи: { $reference }
print-cpr = Номер CPR: { $cpr }

# How to reach the authority, at the end of the letter.
print-contact-phone = Якщо у вас є питання, зателефонуйте до { $unit } за номером { $phone }.
print-contact-phone-hours = Якщо у вас є питання, зателефонуйте до { $unit } за номером { $phone } ({ $hours }).
print-contact-email = Ви також можете написати на { $email }.
print-contact-email-only = Якщо у вас є питання, напишіть до { $unit } на адресу { $email }.
print-contact-none = Якщо у вас є питання, зверніться до { $unit }.

# Outline (bookmarks) of the PDF.
print-outline-contact = Контакти
print-outline-attachment = Додаток { $number }: { $filename }

print-month-1 = січня
print-month-2 = лютого
print-month-3 = березня
print-month-4 = квітня
print-month-5 = травня
print-month-6 = червня
print-month-7 = липня
print-month-8 = серпня
print-month-9 = вересня
print-month-10 = жовтня
print-month-11 = листопада
print-month-12 = грудня

print-weekday-1 = понеділок
print-weekday-2 = вівторок
print-weekday-3 = середа
print-weekday-4 = четвер
print-weekday-5 = п'ятниця
print-weekday-6 = субота
print-weekday-7 = неділя

# The personal access code, for the citizens' pages without MitID.
print-access-code = Ви можете читати свої листи в інтернеті. Увійдіть на { $url } і введіть свій номер CPR та код { $code }.
