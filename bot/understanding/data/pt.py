"""Portuguese (Brazilian spellings first): cues, phrases and common words."""

from __future__ import annotations

from typing import Final

CUES: Final[dict[str, str]] = {
    "case_status": "caso:2 | meu caso:3 | processo:2 | meu processo:3 | status:2 | situacao:2"
    " | pedido:2 | meu pedido:3 | peticao:2 | andamento:3 | recibo:2 | numero do recibo:3"
    " | aprovado:2 | aprovaram:2 | negado:2 | verificar:1 | consultar:2 | acompanhar:2"
    " | cade:2 | green card:3 | cartao verde:3 | autorizacao de trabalho:2 | ver caso:3",
    "appointment": "agendamento:3 | agendar:3 | agenda:1 | marcar:2 | remarcar:3 | horario:2"
    " | atendimento:2 | biometria:3 | digitais:3 | impressoes digitais:3"
    " | entrevista:2 | data:1 | marcar horario:3 | cancelar agendamento:3",
    "password_reset": "senha:3 | esqueci:2 | esqueceu:2 | redefinir:3 | bloqueada:3"
    " | bloqueado:3 | bloquearam:3 | codigo:1 | nao recebi:2 | nao recebo:2"
    " | perdi celular:3 | celular novo:3 | novo celular:3 | autenticador:3"
    " | codigo de backup:3 | criar conta:3 | criar uma conta:3 | conta nova:3"
    " | nova conta:3 | cadastrar:3 | cadastro:3 | mudar senha:3 | trocar senha:3",
    "link_account": "entrar:1 | entrar na conta:3 | fazer login:3 | logar:3 | login:3"
    " | conectar:2 | conectar conta:3 | vincular:3 | vincular conta:3 | minha conta:2"
    " | conta:1 | acessar:2 | acessar conta:3",
    "language": "idioma:3 | lingua:3 | linguagem:2 | fala:1 | falar:1 | mudar idioma:3"
    " | outro idioma:3 | traduzir:2",
    "agent": "atendente:3 | agente:3 | pessoa real:3 | falar com alguem:3"
    " | falar com pessoa:3 | humano:3 | representante:3 | operador:3"
    " | atendimento humano:3",
    "help": "ajuda:2 | ajudar:2 | me ajuda:3 | me ajude:3 | o que voce faz:3"
    " | o que voce pode fazer:3 | como funciona:3 | nao entendi:2 | nao entendo:2"
    " | opcoes:2 | socorro:2",
    "cancel": "cancelar:1 | cancela:1 | parar:2 | sair:2 | deixa pra la:3"
    " | deixa:1 | nao obrigado:3 | nao obrigada:3 | esquece:2 | nao quero mais:2 | chega:2"
    " | desistir:2",
    "greeting": "oi:2 | ola:2 | bom dia:3 | boa tarde:3 | boa noite:3 | tudo bem:2"
    " | obrigado:2 | obrigada:2 | valeu:2 | e ai:2 | opa:1",
}

PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "case_status": (
        "quero saber o status do meu caso",
        "qual a situacao do meu processo",
        "meu pedido foi aprovado",
        "tenho um numero de recibo",
        "consultar o andamento do caso",
        "verificar meu processo por favor",
        "e o meu green card",
        "acompanhar meu pedido",
    ),
    "appointment": (
        "quero agendar um atendimento",
        "marcar biometria",
        "remarcar minha entrevista",
        "cancelar o agendamento",
        "quando e meu agendamento",
        "preciso marcar horario para as digitais",
        "mudar a data do meu agendamento",
        "agendar entrevista",
    ),
    "password_reset": (
        "esqueci a minha senha",
        "minha conta foi bloqueada",
        "perdi o celular e nao tenho o codigo",
        "nao recebi o codigo de verificacao",
        "quero criar uma conta nova",
        "como faco cadastro",
        "trocar minha senha",
        "redefinir a senha",
    ),
    "link_account": (
        "quero entrar na minha conta",
        "fazer login na conta",
        "vincular minha conta do uscis",
        "conectar minha conta",
        "como acessar minha conta",
    ),
    "language": (
        "mudar o idioma",
        "voce fala portugues",
        "em ingles por favor",
        "outro idioma",
        "nao falo ingles",
    ),
    "agent": (
        "quero falar com uma pessoa",
        "preciso de um atendente",
        "me passa para um humano",
        "quero falar com um agente",
    ),
    "help": (
        "preciso de ajuda",
        "me ajude por favor",
        "o que voce pode fazer",
        "como funciona isso",
        "nao entendi nada",
    ),
    "cancel": (
        "cancelar",
        "deixa pra la entao",
        "parar",
        "sair daqui",
        "nao quero mais",
    ),
    "greeting": (
        "oi",
        "ola tudo bem",
        "bom dia pessoal",
        "boa noite",
        "muito obrigado",
    ),
    "unknown": (
        "que horas sao",
        "conta uma piada",
        "eu gosto de pizza",
        "vai chover amanha",
        "meu cachorro esta doente",
    ),
}

TOPICS: Final[dict[str, str]] = {
    "create_account": "criar conta | criar uma conta | conta nova | nova conta | cadastrar"
    " | cadastro | abrir conta",
    "lost_device": "perdi celular | celular novo | novo celular | perdi telefone"
    " | roubaram celular | celular roubado | celular quebrado | autenticador"
    " | troquei de celular",
    "forgot_password": "esqueci senha | esqueceu senha | esqueci minha senha | redefinir senha"
    " | mudar senha | trocar senha | nova senha | recuperar senha",
}

WORDS: Final = (
    "eu meu minha meus minhas voce você vc te me o a os as um uma de do da dos das no na"
    " em pra para por com sem e é ta tá esta está estou sao são tem tenho quero queria"
    " preciso posso pode que como quando onde quem qual nao não sim mas ou muito isso"
    " isto aqui agora ainda ja já obrigado favor fazer ver saber"
)
