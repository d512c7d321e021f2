# print channel (sv). Keys start with "print-".

# Footer on every page of the letter.
print-page = Sida { $page } av { $pages }

# Dates: $day and $year are numbers, $month and $weekday come from the lists below.
print-date = { $day } { $month } { $year }
print-date-long = { $weekday } den { $day } { $month } { $year }
print-letter-date = Datum: { $date }
print-deadline = Svara senast { $date }.
print-deadline-extended = Du har fått mer tid. Svara senast { $date }.

# Sender block.
print-phone = Telefon: { $phone }
print-hours = Telefontid: { $hours }
print-email = E-post: { $email }
print-reference = Ärendenummer: { $reference }
print-cpr = CPR-nummer: { $cpr }

# How to reach the authority, at the end of the letter.
print-contact-phone = Har du frågor kan du ringa { $unit } på telefon { $phone }.
print-contact-phone-hours = Har du frågor kan du ringa { $unit } på telefon { $phone } ({ $hours }).
print-contact-email = Du kan också skriva till { $email }.
print-contact-email-only = Har du frågor kan du skriva till { $unit } på { $email }.
print-contact-none = Har du frågor kan du kontakta { $unit }.

# Outline (bookmarks) of the PDF.
print-outline-contact = Kontakt
print-outline-attachment = Bilaga { $number }: { $filename }

print-month-1 = januari
print-month-2 = februari
print-month-3 = mars
print-month-4 = april
print-month-5 = maj
print-month-6 = juni
print-month-7 = juli
print-month-8 = augusti
print-month-9 = september
print-month-10 = oktober
print-month-11 = november
print-month-12 = december

print-weekday-1 = måndag
print-weekday-2 = tisdag
print-weekday-3 = onsdag
print-weekday-4 = torsdag
print-weekday-5 = fredag
print-weekday-6 = lördag
print-weekday-7 = söndag

# The personal access code, for the citizens' pages without MitID.
print-access-code = Du kan läsa dina brev på nätet. Logga in på { $url } med ditt CPR-nummer och koden { $code }.
