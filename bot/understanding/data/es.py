"""Spanish: cues, phrases and common words for the understanding model."""

from __future__ import annotations

from typing import Final

CUES: Final[dict[str, str]] = {
    "case_status": "caso:2 | mi caso:3 | estado:2 | estatus:2 | status:2 | estado del caso:3"
    " | solicitud:2 | peticion:2 | aplicacion:2 | tramite:2 | expediente:2 | recibo:2"
    " | numero de recibo:3 | aprobado:2 | aprobaron:2 | aprobada:2 | negado:2 | negaron:2"
    " | revisar:1 | checar:1 | chequear:1 | consultar:2 | ver caso:3 | como va:2 | como vamos:1"
    " | que paso:1 | donde esta:1 | tarjeta verde:3 | residencia:2 | permiso de trabajo:2"
    " | seguimiento:2 | saber caso:3",
    "appointment": "cita:3 | citas:3 | agendar:2 | agenda:1 | reprogramar:3"
    " | reagendar:3 | programar:2 | huellas:2 | huella:2 | huellas digitales:3 | biometricos:2"
    " | biometria:2 | entrevista:2 | sacar cita:3 | hacer cita:3 | cambiar cita:3"
    " | cancelar cita:3 | turno:2 | oficina:1 | horario:1",
    "password_reset": "contrasena:3 | contraseña:3 | clave:2 | olvide:2 | olvido:2 | olvidé:2"
    " | no me acuerdo:2 | bloqueada:3 | bloqueado:3 | bloquearon:3 | perdi celular:3"
    " | perdi telefono:3 | celular nuevo:3 | telefono nuevo:3 | codigo:1 | no llego codigo:3"
    " | no me llega:2 | autenticador:3 | codigo de respaldo:3 | crear cuenta:3"
    " | creo cuenta:3 | hacer cuenta:3"
    " | cuenta nueva:3 | nueva cuenta:3 | registrarme:3 | registrarse:3 | abrir cuenta:3"
    " | restablecer:2 | cambiar contrasena:3",
    "link_account": "iniciar sesion:3 | inicio de sesion:3 | entrar cuenta:3 | entrar:1"
    " | ingresar:2 | ingresar cuenta:3 | conectar:2 | conectar cuenta:3 | vincular:3"
    " | vincular cuenta:3 | enlazar:3 | mi cuenta:2 | cuenta:1 | logue*:3 | logea*:3"
    " | acceder:2 | acceder cuenta:3",
    "language": "idioma:3 | lengua:2 | lenguaje:2 | hablar:1 | hablas:2 | habla:1"
    " | cambiar idioma:3 | otro idioma:3 | en que idioma:3 | traducir:2",
    "agent": "agente:3 | hablar con alguien:3 | hablar con persona:3"
    " | persona real:3 | humano:3 | representante:3 | operador:3 | operadora:3"
    " | asesor:3 | servicio al cliente:3 | atencion al cliente:3"
    " | chat en vivo:3",
    "help": "como le hago:3 | ayuda:2 | ayudame:2 | ayúdame:2 | ayudar:2"
    " | que puedes hacer:3 | que haces:2"
    " | como funciona:3 | no entiendo:2 | opciones:2 | instrucciones:2 | socorro:2",
    "cancel": "cancelar:1 | cancela:1 | parar:2 | salir:2 | olvidalo:2 | olvídalo:2"
    " | dejalo:2 | no gracias:3 | ya no:2 | no quiero:1 | basta:2 | detener:2 | terminar:2",
    "greeting": "hola:2 | ola:2 | buenos dias:3 | buen dia:3 | buenas tardes:3 | buenas noches:3"
    " | buenas:2 | que tal:2 | saludos:2 | gracias:2 | muchas gracias:3 | que onda:2",
}

PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "case_status": (
        "quiero saber como va mi caso",
        "cual es el estado de mi caso",
        "revisar el estatus de mi solicitud",
        "ya aprobaron mi peticion",
        "tengo un numero de recibo",
        "consultar mi caso por favor",
        "que paso con mi tramite",
        "donde esta mi permiso de trabajo",
        "quiero ver el estado de mi residencia",
        "mi caso ya tiene respuesta",
        "checar mi caso",
    ),
    "appointment": (
        "quiero hacer una cita",
        "necesito agendar una cita de biometricos",
        "cambiar mi cita para otro dia",
        "quiero cancelar la cita",
        "reprogramar mi entrevista",
        "cuando es mi cita",
        "sacar turno para las huellas",
        "hacer una cita en la oficina",
        "necesito cita para mis huellas digitales",
        "ver mis citas",
    ),
    "password_reset": (
        "olvidé la contraseña de mi cuenta",
        "no me acuerdo de mi contraseña",
        "mi cuenta esta bloqueada que hago",
        "perdi el telefono y no recibo el codigo",
        "no me llega el codigo de verificacion",
        "quiero crear una cuenta nueva",
        "como me registro",
        "cambiar mi contraseña",
        "se bloqueo mi cuenta",
        "tengo celular nuevo y no tengo el autenticador",
    ),
    "link_account": (
        "quiero iniciar sesion",
        "entrar a mi cuenta de uscis",
        "conectar mi cuenta",
        "vincular mi cuenta en linea",
        "como ingreso a mi cuenta",
        "acceder a mi cuenta",
        "iniciar sesión por favor",
    ),
    "language": (
        "cambiar de idioma",
        "hablas español",
        "quiero otro idioma",
        "en ingles por favor",
        "puedes hablar en español",
        "no hablo ingles",
    ),
    "agent": (
        "quiero hablar con una persona",
        "necesito un agente por favor",
        "comuníqueme con un representante",
        "quiero hablar con un humano",
        "me pasa con un asesor",
    ),
    "help": (
        "necesito ayuda",
        "ayudame por favor",
        "que puedes hacer por mi",
        "como funciona esto",
        "no entiendo nada",
        "cuales son las opciones",
    ),
    "cancel": (
        "cancelar",
        "ya no quiero seguir",
        "olvidalo ya",
        "salir de aqui",
        "para por favor",
        "basta ya",
    ),
    "greeting": (
        "hola",
        "hola buenas",
        "buenos dias",
        "buenas noches",
        "que tal como estas",
        "muchas gracias",
    ),
    "unknown": (
        "que hora es",
        "cuentame un chiste",
        "me gusta la pizza",
        "quien gano el partido",
        "mi perro esta enfermo",
        "hace mucho calor hoy",
    ),
}

TOPICS: Final[dict[str, str]] = {
    "create_account": "crear cuenta | cuenta nueva | nueva cuenta | abrir cuenta | registrarme"
    " | registrarse | registro | como me registro",
    "lost_device": "perdi celular | perdi telefono | celular nuevo | telefono nuevo"
    " | nuevo celular | nuevo telefono | me robaron celular | robaron telefono"
    " | perdi autenticador | autenticador | cambie de celular | cambie telefono",
    "forgot_password": "olvide contrasena | olvido contrasena | olvide clave | olvido clave"
    " | no me acuerdo contrasena | no recuerdo contrasena | no me acuerdo clave"
    " | restablecer contrasena | cambiar contrasena | nueva contrasena | recuperar contrasena",
}

WORDS: Final = (
    "yo mi mis me tu tus su sus el la los las un una unos de del al a en con por para que"
    " como cuando donde quien cual es esta estoy son soy tengo tiene quiero quisiera"
    " necesito puedo puedes puede hay ya no si sí pero o y muy mas bien porfa porfavor"
    " favor gracias hola ver hacer saber decir esto eso aqui ahora todavia nada algo"
    " usted ustedes nosotros nuestro mio"
)
