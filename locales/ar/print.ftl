# print channel (ar). Keys start with "print-".

# Footer on every page of the letter.
print-page = الصفحة { $page } من { $pages }

# Dates: $day and $year are numbers, $month and $weekday come from the lists below.
print-date = { $day } { $month } { $year }
print-date-long = { $weekday }، { $day } { $month } { $year }
print-letter-date = التاريخ: { $date }
print-deadline = ردّ في موعد أقصاه { $date }.
print-deadline-extended = تم تمديد موعدك النهائي. ردّ في موعد أقصاه { $date }.

# Sender block.
print-phone = الهاتف: { $phone }
print-hours = أوقات الاتصال الهاتفي: { $hours }
print-email = البريد الإلكتروني: { $email }
print-reference = رقم الملف: { $reference }
print-cpr = رقم CPR: { $cpr }

# How to reach the authority, at the end of the letter.
print-contact-phone = إذا كانت لديك أسئلة، يمكنك الاتصال بـ { $unit } على الرقم { $phone }.
print-contact-phone-hours = إذا كانت لديك أسئلة، يمكنك الاتصال بـ { $unit } على الرقم { $phone } ({ $hours }).
print-contact-email = يمكنك أيضًا الكتابة إلى { $email }.
print-contact-email-only = إذا كانت لديك أسئلة، يمكنك الكتابة إلى { $unit } على العنوان { $email }.
print-contact-none = إذا كانت لديك أسئلة، يمكنك التواصل مع { $unit }.

# Outline (bookmarks) of the PDF.
print-outline-contact = التواصل
print-outline-attachment = المرفق { $number }: { $filename }

print-month-1 = يناير
print-month-2 = فبراير
print-month-3 = مارس
print-month-4 = أبريل
print-month-5 = مايو
print-month-6 = يونيو
print-month-7 = يوليو
print-month-8 = أغسطس
print-month-9 = سبتمبر
print-month-10 = أكتوبر
print-month-11 = نوفمبر
print-month-12 = ديسمبر

print-weekday-1 = الاثنين
print-weekday-2 = الثلاثاء
print-weekday-3 = الأربعاء
print-weekday-4 = الخميس
print-weekday-5 = الجمعة
print-weekday-6 = السبت
print-weekday-7 = الأحد

# The personal access code, for the citizens' pages without MitID.
print-access-code = يمكنك قراءة رسائلك على الإنترنت. سجّل الدخول على { $url } برقم CPR الخاص بك والرمز { $code }.
