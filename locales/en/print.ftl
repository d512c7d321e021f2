# print channel (en). Keys start with "print-".

# Footer on every page of the letter.
print-page = Page { $page } of { $pages }

# Dates: $day and $year are numbers, $month and $weekday come from the lists below.
print-date = { $day } { $month } { $year }
print-date-long = { $weekday } { $day } { $month } { $year }
print-letter-date = Date: { $date }
print-deadline = Please reply by { $date }.
print-deadline-extended = Your deadline has been extended. Reply by { $date } at the latest.

# Sender block.
print-phone = Phone: { $phone }
print-hours = Phone hours: { $hours }
print-email = Email: { $email }
print-reference = Case no.: { $reference }
print-cpr = CPR no.: { $cpr }

# How to reach the authority, at the end of the letter.
print-contact-phone = If you have questions, call { $unit } on { $phone }.
print-contact-phone-hours = If you have questions, call { $unit } on { $phone } ({ $hours }).
print-contact-email = You can also write to { $email }.
print-contact-email-only = If you have questions, write to { $unit } at { $email }.
print-contact-none = If you have questions, contact { $unit }.

# Outline (bookmarks) of the PDF.
print-outline-contact = Contact
print-outline-attachment = Attachment { $number }: { $filename }

print-month-1 = January
print-month-2 = February
print-month-3 = March
print-month-4 = April
print-month-5 = May
print-month-6 = June
print-month-7 = July
print-month-8 = August
print-month-9 = September
print-month-10 = October
print-month-11 = November
print-month-12 = December

print-weekday-1 = Monday
print-weekday-2 = Tuesday
print-weekday-3 = Wednesday
print-weekday-4 = Thursday
print-weekday-5 = Friday
print-weekday-6 = Saturday
print-weekday-7 = Sunday

# The personal access code, for the citizens' pages without MitID.
print-access-code = You can read your letters online. Log in at { $url } with your CPR number and the code { $code }.
