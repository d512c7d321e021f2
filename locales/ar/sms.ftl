# sms channel (ar). Keys start with "sms-".
# The notice is put together from these parts, in this order. It must never name the
# letter's subject or content: an SMS shows on a locked screen. Arabic SMS travel as UCS-2
# (70 characters in one SMS, 67 per part when split): keep each part short, and a whole
# notice, for an ordinary authority name, within 3 parts (about 200 characters).
sms-notice-important = رسالة مهمة من { $sender }.
sms-notice = رسالة جديدة من { $sender }.
sms-read = اقرأها على borger.dk أو في تطبيق Digital Post.
sms-read-paper = تصلك الرسالة على الورق بالبريد.
sms-deadline = الموعد النهائي: { $date }.
sms-deadline-extended = تم تمديد موعدك النهائي إلى { $date }.
sms-callback = ردّ بكلمة { $keyword } إذا أردت أن نتصل بك.
# The word a citizen replies to be called; replies in any language's word are understood.
sms-callback-keyword = اتصل
sms-helper-notice = لدى { $citizen } رسالة مهمة من { $sender } لم تُقرأ بعد. نخبرك بهذا بناءً على طلب { $citizen }. نرجو أن تساعد في قراءتها.
