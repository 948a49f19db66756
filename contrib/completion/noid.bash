# bash completion for noid(1).  Source it, or install it as
# /usr/share/bash-completion/completions/noid.  The command list follows
# the table in tui/cli-table.c (`noid --help` prints the same list).
# Works in a plain bash too: without the bash-completion package it
# falls back to COMP_WORDS/COMP_CWORD and compgen for file names.

# File names (directories only with -d), through _filedir when present.
_noid_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir "$@"
	elif [[ $1 == -d ]]; then
		COMPREPLY=($(compgen -d -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

_noid()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=
		((cword > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi

	local globals="--data-dir --profile --password-file --help --version"
	local commands="init profiles relays invite connect requests accept \
reject contacts send read search verify rekey rotate passwd export import \
daemon help"

	case "$prev" in
	--data-dir)
		_noid_files -d
		return ;;
	--password-file|export|import)
		_noid_files
		return ;;
	--profile)
		COMPREPLY=($(compgen -W "$(noid profiles 2>/dev/null | \
			sed 's/^[* ] //; s/  (.*//')" -- "$cur"))
		return ;;
	esac

	# The command word: the first word that is not a global option.
	local i cmd= sub=
	for ((i = 1; i < cword; i++)); do
		case "${words[i]}" in
		--data-dir|--profile|--password-file) ((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=${words[i]}; elif [[ -z $sub ]]; \
			then sub=${words[i]}; fi ;;
		esac
	done

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$globals $commands" -- "$cur"))
		return
	fi
	case "$cmd" in
	init) COMPREPLY=($(compgen -W "--name --no-password --help" -- "$cur")) ;;
	profiles) [[ -z $sub ]] && \
		COMPREPLY=($(compgen -W "add rename rm --help" -- "$cur")) ;;
	relays) [[ -z $sub ]] && \
		COMPREPLY=($(compgen -W "add rm test --help" -- "$cur")) ;;
	invite) COMPREPLY=($(compgen -W "--text --qr --help" -- "$cur")) ;;
	read) COMPREPLY=($(compgen -W "--follow --json --limit --help \
		$(noid contacts 2>/dev/null | cut -f1)" -- "$cur")) ;;
	contacts) [[ -z $sub ]] && \
		COMPREPLY=($(compgen -W "rename rm --help" -- "$cur")) ;;
	send|verify|rekey|rotate)
		[[ -z $sub ]] && COMPREPLY=($(compgen -W \
			"$(noid contacts 2>/dev/null | cut -f1)" -- "$cur")) ;;
	accept|reject)
		COMPREPLY=($(compgen -W "$(noid requests 2>/dev/null | \
			awk '{print $2}')" -- "$cur")) ;;
	help) COMPREPLY=($(compgen -W "$commands --man" -- "$cur")) ;;
	*) COMPREPLY=($(compgen -W "--help" -- "$cur")) ;;
	esac
}
complete -F _noid noid
