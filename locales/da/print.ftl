# print channel (da). Keys start with "print-".

# Footer on every page of the letter.
print-page = Side { $page } af { $pages }

# Dates: $day and $year are numbers, $month and $weekday come from the lists below.
print-date = { $day }. { $month } { $year }
print-date-long = { $weekday } den { $day }. { $month } { $year }
print-letter-date = Dato: { $date }
print-deadline = Svar senest { $date }.
print-deadline-extended = Din frist er forlænget. Svar senest { $date }.

# Sender block.
print-phone = Telefon: { $phone }
print-hours = Telefontid: { $hours }
print-email = E-mail: { $email }
print-reference = Sagsnr.: { $reference }
print-cpr = CPR-nr.: { $cpr }

# How to reach the authority, at the end of the letter.
print-contact-phone = Har du spørgsmål, kan du ringe til { $unit } på telefon { $phone }.
print-contact-phone-hours = Har du spørgsmål, kan du ringe til { $unit } på telefon { $phone } ({ $hours }).
print-contact-email = Du kan også skrive til { $email }.
print-contact-email-only = Har du spørgsmål, kan du skrive til { $unit } på { $email }.
print-contact-none = Har du spørgsmål, kan du kontakte { $unit }.

# Outline (bookmarks) of the PDF.
print-outline-contact = Kontakt
print-outline-attachment = Bilag { $number }: { $filename }

print-month-1 = januar
print-month-2 = februar
print-month-3 = marts
print-month-4 = april
print-month-5 = maj
print-month-6 = juni
print-month-7 = juli
print-month-8 = august
print-month-9 = september
print-month-10 = oktober
print-month-11 = november
print-month-12 = december

print-weekday-1 = mandag
print-weekday-2 = tirsdag
print-weekday-3 = onsdag
print-weekday-4 = torsdag
print-weekday-5 = fredag
print-weekday-6 = lørdag
print-weekday-7 = søndag

# The personal access code, for the citizens' pages without MitID.
print-access-code = Du kan læse dine breve på nettet. Log ind på { $url } med dit CPR-nummer og koden { $code }.
