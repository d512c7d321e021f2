# Budbringer — Arabic (ar). Plain language: short, kind, concrete.

## API problems: titles (RFC 9457 "title")
problem-bad-request = لا يمكن قراءة الطلب
problem-unauthorized = لم تسجّل الدخول
problem-forbidden = ليست لديك صلاحية الوصول
problem-not-found = غير موجود
problem-method-not-allowed = هذه الطريقة غير مسموح بها هنا
problem-conflict = تعارض
problem-gone = لم يعد موجودًا
problem-too-large = الطلب كبير جدًا
problem-unsupported-media-type = نوع المحتوى غير صحيح
problem-invalid = بعض الحقول لم تُملأ بشكل صحيح
problem-rate-limited = طلبات كثيرة جدًا
problem-unavailable = الخدمة غير متاحة مؤقتًا
problem-internal = حدث خطأ من جهتنا

## API problems: explanations ("detail")
detail-malformed-json = المحتوى ليس JSON صالحًا: { $problem }
detail-json-content-type = أرسل المحتوى بصيغة JSON مع Content-Type: application/json.
detail-missing-api-key = أرسل مفتاح API الخاص بك في الترويسة Authorization: Bearer <المفتاح>.
detail-bad-api-key = مفتاح API غير معروف أو أُلغي.
detail-letter-not-found = لا توجد لدى جهتكم رسالة بهذا المعرّف.
detail-webhook-not-found = لا يوجد لدى جهتكم webhook بهذا المعرّف.
detail-content-deleted = حُذف محتوى الرسالة وفق قاعدة الاحتفاظ بالبيانات. سجلّ ما حدث للرسالة لا يزال محفوظًا.
detail-route-not-found = هذا العنوان غير موجود في API.
detail-method-not-allowed = هذا العنوان موجود، ولكن ليس مع طريقة HTTP هذه.
detail-idempotency-mismatch = استُخدم مفتاح Idempotency-Key هذا من قبل لطلب آخر. استخدم مفتاحًا جديدًا لرسالة جديدة.
detail-cannot-cancel = لا يمكن إلغاء الرسالة، لأن حالتها الآن { $status }.
detail-body-too-large = حجم الطلب أكبر من الحد المسموح به، وهو { $max } بايت.
detail-too-large-fields = مستند واحد أو أكثر كبير جدًا، أو عدد المستندات كبير جدًا.
detail-invalid-fields = صحّح الحقول المذكورة في القائمة "errors"، ثم حاول مرة أخرى.
detail-rate-limited = انتظر { $seconds } ثانية، ثم حاول مرة أخرى.
detail-unavailable = لا يمكن الوصول إلى قاعدة البيانات الآن. لم يُحفظ شيء. حاول مرة أخرى بعد قليل.
detail-internal = حاول مرة أخرى بعد قليل. سُجّل الخطأ.

## Problems with single fields
error-required = يجب ملء هذا الحقل.
error-too-long = الحد الأقصى لعدد الأحرف في هذا الحقل: { $max }.
error-control-chars = يجب ألا يحتوي هذا الحقل على أحرف تحكم.
error-cpr-format = رقم CPR مكوّن من 10 أرقام (DDMMYYXXXX، ويمكن وضع شرطة بعد التاريخ).
error-cpr-date = يجب أن تكون الأرقام الستة الأولى من رقم CPR تاريخًا حقيقيًا (DDMMYY).
error-body-or-document = يجب أن يكون للرسالة نص أو مستند واحد على الأقل.
error-date-format = اكتب التاريخ بالشكل YYYY-MM-DD.
error-date-past = يجب ألا يكون الموعد النهائي قبل اليوم.
error-too-many-documents = الحد الأقصى لعدد المستندات في الرسالة: { $max }.
error-document-too-large = الحد الأقصى لحجم المستند: { $max } بايت.
error-not-pdf = المستند ليس ملف PDF.
error-pdf-encrypted = ملف PDF مشفّر أو محمي بكلمة مرور، فلا يمكن طباعته ولا إرفاقه بالرسالة. أرسله بدون تشفير.
error-base64 = يجب أن يكون المحتوى بترميز base64.
error-filename = يجب ألا يحتوي اسم الملف على شرطات مائلة أو أحرف تحكم، وألا يبدأ بنقطة.
error-filename-pdf = يجب أن ينتهي اسم الملف بـ .pdf.
error-country = يجب أن يكون رمز البلد حرفين لاتينيين كبيرين (ISO 3166-1)، مثل DK.
error-postcode = الرمز البريدي الدنماركي مكوّن من أربعة أرقام.
error-phone = يجب أن يتكون رقم الهاتف من 8 إلى 15 رقمًا.
error-email = عنوان البريد الإلكتروني غير صالح.
error-url = يجب أن يكون العنوان رابط URL يبدأ بـ http أو https.
error-webhook-secret = يجب أن يكون السرّ "whsec_" متبوعًا بـ 24 إلى 64 بايت بترميز base64.
error-json-missing = هذا الحقل ناقص.
error-json-unknown-field = هذا الحقل غير معروف.
error-json-type = نوع هذا الحقل غير صحيح: { $problem }
error-query-value = لا يمكن استخدام هذه القيمة: { $problem }
detail-citizen-not-found = لا يوجد مواطن بهذا المعرّف.
error-language = اكتب اللغة كرمز لغة، مثل da أو en أو uk.
error-letter-channel = يمكن أن تصل الرسائل عبر digital_post أو print أو phone.
error-notice-channel = يمكن أن تصل التنبيهات بالرسائل الجديدة عبر sms أو email.
detail-alert-not-found = لا يوجد لدى جهتكم تحذير مفتوح بهذا المعرّف.
detail-callback-not-found = لا يوجد لدى جهتكم طلب اتصال مفتوح بهذا المعرّف.
error-minutes = يجب أن تكون الدقائق عددًا من 0 إلى 600.
error-via = اكتب الطريقة بأحرف صغيرة، مثل counter أو phone أو letter.
error-category = يجب أن تتكون الفئة من 1 إلى 50 حرفًا: a-z و 0-9 و _ و -.
error-office-hours = اكتب أوقات العمل بالشكل "mon-fri 09:00-15:00"، والمنطقة الزمنية مثل Europe/Copenhagen.
error-helper-unreachable = يجب أن يكون للمساعد رقم هاتف أو بريد إلكتروني (للتنبيه)، أو عنوان (للنسخة).
error-helper-consent = يجب أن يكون المواطن قد وافق على المساعد (consent: true).
error-too-many-days = الحد الأقصى لأيام الإغلاق: 366.
error-idempotency-key = يجب أن يتكون Idempotency-Key من 1 إلى 255 حرفًا مرئيًا.

## Messages to the citizen
callback-summary = اتصل بالمواطن بشأن الرسالة "{ $subject }" من { $sender }.
callback-requested-summary = ردّ المواطن بكلمة "اتصل" على التنبيه النصي بشأن الرسالة "{ $subject }" من { $sender }، ويريد أن نتصل به.
callback-deadline = الموعد النهائي هو { $date }.
callback-language = اللغة التي يفضّل المواطن القراءة بها: { $language }.
callback-large-print = يحتاج المواطن إلى خط كبير.

## API documentation (/docs)
docs-title = Budbringer: واجهة API للجهات العامة
docs-intro = أرسل رسائل إلى المواطنين، وتابع التسليم والفتح والتصعيد، واستقبل الأحداث.
docs-auth = كل طلب تحت /v1 يحتاج إلى مفتاح API في الترويسة Authorization: Bearer <المفتاح>.
docs-openapi-link = الوصف الكامل بصيغة OpenAPI (JSON)
docs-operations = العمليات
docs-parameters = المعاملات
docs-name = الاسم
docs-in = الموضع
docs-description = الوصف
docs-request = المحتوى
docs-responses = الردود
docs-schemas = أنواع البيانات
docs-field = الحقل
docs-type = النوع
docs-required = مطلوب
docs-problems = أنواع الأخطاء
docs-problems-intro = تُرسل الأخطاء بصيغة application/problem+json (RFC 9457). الحقل "type" يشير إلى هنا، والحقل "errors" يذكر كل حقل غير صحيح.

## Dates (a date in words, e.g. in deadlines)
date-long = { $day } { $month ->
        [jan] يناير
        [feb] فبراير
        [mar] مارس
        [apr] أبريل
        [may] مايو
        [jun] يونيو
        [jul] يوليو
        [aug] أغسطس
        [sep] سبتمبر
        [oct] أكتوبر
        [nov] نوفمبر
       *[dec] ديسمبر
    } { $year }

## The reading page (/l/…)
reading-from = رسالة من { $sender }
reading-what-to-do = ما يجب عليك فعله
reading-deadline = ردّ في موعد أقصاه { $date }.
reading-deadline-extended = تم تمديد موعدك النهائي. ردّ في موعد أقصاه { $date }.
reading-documents = المستندات
reading-content-deleted = حذفنا نص هذه الرسالة ومستنداتها في { $date }. نحتفظ بالرسالة لمدة { $days } يومًا بعد انتهاء الموعد النهائي. لا يزال بإمكانك رؤية ما حدث للرسالة.
reading-contact = هل لديك أسئلة؟ تواصل مع { $sender }: { $contact }.
detail-reading-link-not-found = الرابط لا يعمل. ربما انتهت صلاحيته. سجّل الدخول إلى Digital Post لقراءة الرسالة.
reading-code-title = احصل على رمز لرسالتك
reading-code-explain = ربما أُرسل الرابط إلى شخص آخر، لذلك نرسل أولًا رمزًا إلى هاتفك الذي ينتهي رقمه بـ { $last }.
reading-code-send = أرسل لي رمزًا
reading-code-label = اكتب الرمز (6 أرقام)
reading-code-open = افتح الرسالة
reading-code-sent = أرسلنا رمزًا إلى هاتفك. يعمل لمدة 10 دقائق.
reading-code-wrong = الرمز خطأ. حاول مرة أخرى.
reading-code-expired = الرمز لم يعد يعمل. اطلب رمزًا جديدًا.
reading-code-too-many = لقد طلبت رموزًا كثيرة. انتظر ربع ساعة، ثم حاول مرة أخرى.
reading-code-no-phone = ليس لدينا رقم هاتفك. سجّل الدخول إلى Digital Post لقراءة الرسالة، أو اتصل بالمرسل.
reading-code-sms = رمزك للرسالة من { $sender }: { $code }. لا تعطه لأحد.
